"""Beacon's exception family; every stage raises these so the edges can speak plainly."""

from __future__ import annotations

from pathlib import Path


class BeaconError(Exception):
    """An expected problem the person running Beacon can fix; never shown as a traceback.

    Lives in ingest because data flows one way (ingest → index → service): the first stage is the one
    place every package may import from. Each subclass knows the HTTP status the service answers it
    with; the service's one error shape is {"detail": message, "hint": hint} (service/schemas.py)."""

    status = 503  # the service cannot do it right now (a missing or damaged index, say)

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  hint: {self.hint}"


class CorpusError(BeaconError):
    """A corpus file that cannot be read, with the file and line to look at."""

    status = 422

    def __init__(self, path: Path | str, line: int | None, message: str, hint: str | None = None):
        self.path = str(path)
        self.line = line
        where = f"{self.path}:{line}" if line else self.path
        super().__init__(f"{where}: {message}", hint)
        self.problem = message


class SkipFile(Exception):
    """A readable file its author asked to leave out (a draft, a page marked noindex); counted, never an error."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason
