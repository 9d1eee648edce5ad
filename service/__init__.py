"""FastAPI app, CLI, templates and static files: wires ingest and index into a web service."""

from importlib.metadata import PackageNotFoundError, version

try:
    # The one version string: pyproject.toml's, as installed (the CLI's --version and the OpenAPI info).
    __version__ = version("beacon")
except PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0+unknown"
