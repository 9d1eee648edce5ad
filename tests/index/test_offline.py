"""Importing Beacon's index package turns the Hugging Face libraries offline before any of them loads."""

from __future__ import annotations

import os
import subprocess
import sys

from index.offline import ENVIRONMENT
from tests.helpers import ROOT


def test_importing_index_sets_the_offline_environment_before_transformers_loads():
    env = {k: v for k, v in os.environ.items() if k not in ENVIRONMENT}
    env["PYTHONPATH"] = str(ROOT)
    names = sorted(ENVIRONMENT)
    probe = (
        "import os, sys; import index; "
        f"print(sorted((k, os.environ.get(k)) for k in {names!r})); print('transformers' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    lines = out.stdout.strip().splitlines()
    assert lines[0] == str(sorted(ENVIRONMENT.items()))
    assert lines[1] == "False"  # nothing loaded transformers before the variables were set


def test_a_users_own_setting_wins():
    env = {"HF_HUB_OFFLINE": "0"}
    from index.offline import go_offline

    go_offline(env)
    assert env["HF_HUB_OFFLINE"] == "0" and env["TRANSFORMERS_OFFLINE"] == "1"
