"""One version string: pyproject.toml's, shown by the CLI and the OpenAPI document alike."""

from __future__ import annotations

import tomllib

from click.testing import CliRunner

from service.cli import main
from tests.helpers import ROOT


def _declared() -> str:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


def test_cli_version_is_the_projects():
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"beacon, version {_declared()}"


def test_openapi_version_is_the_projects(guide_app_client):
    assert guide_app_client.get("/openapi.json").json()["info"]["version"] == _declared()
