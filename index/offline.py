"""Beacon never downloads at run time: the Hugging Face libraries are told so before they load."""

from __future__ import annotations

import os

# Without these a missing model makes transformers retry a hub request for minutes; with them it fails
# at once with a message Beacon turns into ModelError. TOKENIZERS_PARALLELISM: tokenizers' own thread pool
# fights uvicorn's workers and the encoder's threads for the same cores, and warns after a fork.
ENVIRONMENT = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "TRANSFORMERS_VERBOSITY": "error",
    "TOKENIZERS_PARALLELISM": "false",
}


def go_offline(environ: os._Environ | dict = os.environ) -> None:
    """Set each variable the caller has not set itself (a user may still point HF_HOME elsewhere)."""
    for name, value in ENVIRONMENT.items():
        environ.setdefault(name, value)
