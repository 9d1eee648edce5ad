"""The curators' gap log: questions nothing answered, so the corpus can grow where readers need it.

Off unless `query_log_path` is set. It keeps only the cleaned question, the time and the top score:
no address, no cookie, no user agent. The file is private to the service's user (0600). Entries past
the retention are deleted at start-up and on every write, and never shown by a report; at most
`max_rows` are kept.

The log is best-effort: a reader's search never fails because of it. A failed write (read-only
file, full disk, file deleted) is counted and logged at most once a minute; the table is recreated
on the next write if the file went away."""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ingest.errors import BeaconError

DAY = 86400.0
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS gaps (asked_at REAL NOT NULL, question TEXT NOT NULL, top_score REAL);"
    "CREATE INDEX IF NOT EXISTS gaps_time ON gaps (asked_at)"
)
FAILURE_LOG_INTERVAL_S = 60.0
log = logging.getLogger("beacon.querylog")


@dataclass(frozen=True)
class Gap:
    question: str
    times: int
    last_asked: float
    best_score: float | None


@contextmanager
def session(path: Path):
    """One connection, committed on success and always closed (sqlite3's own `with` only commits)."""
    db = sqlite3.connect(path, timeout=5)
    try:
        with db:
            yield db
    finally:
        db.close()


def create_private(path: Path) -> None:
    """Create the file 0600 before SQLite opens it (SQLite's journal files copy the file's mode)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)  # an existing file from an older Beacon may be 0644


def _prune(db: sqlite3.Connection, now: float, retention: float, max_rows: int | None) -> None:
    db.execute("DELETE FROM gaps WHERE asked_at < ?", (now - retention,))
    if max_rows:
        db.execute(
            "DELETE FROM gaps WHERE rowid IN (SELECT rowid FROM gaps ORDER BY asked_at DESC LIMIT -1 OFFSET ?)",
            (max_rows,),
        )


class QueryLog:
    def __init__(self, path: Path, retention_days: int, max_rows: int = 100_000, on_failure=None):
        """Opens (or creates) the log and applies retention; raises BeaconError if it cannot be written."""
        self.path = Path(path)
        self.retention = retention_days * DAY
        self.max_rows = max_rows
        self.on_failure = on_failure  # e.g. a metrics counter's inc
        self.failures = 0
        self._last_failure_log = -FAILURE_LOG_INTERVAL_S
        self._lock = threading.Lock()  # searches run in a thread pool; SQLite wants one writer at a time
        try:
            create_private(self.path)
            with session(self.path) as db:
                db.executescript(SCHEMA)
                _prune(db, time.time(), self.retention, self.max_rows)
            with session(self.path) as db:  # a write rolled back: fails now on a read-only file or folder
                db.execute("INSERT INTO gaps (asked_at, question, top_score) VALUES (0, '', NULL)")
                db.rollback()
        except (OSError, sqlite3.Error) as e:
            # One line (no hint line): `beacon serve` and the uvicorn factory print it as is.
            raise BeaconError(
                f"the gap log {self.path} cannot be written ({e}): make it and its folder "
                "writable by this user, or unset BEACON_QUERY_LOG_PATH"
            ) from None

    def record_unanswered(self, question: str, top_score: float | None, now: float | None = None) -> None:
        """Never raises: the gap log must not turn a reader's search into an error."""
        now = time.time() if now is None else now
        try:
            with self._lock:
                if not self.path.exists():
                    create_private(self.path)  # deleted while serving: start a new, private file
                with session(self.path) as db:
                    db.executescript(SCHEMA)
                    db.execute(
                        "INSERT INTO gaps (asked_at, question, top_score) VALUES (?, ?, ?)", (now, question, top_score)
                    )
                    _prune(db, now, self.retention, self.max_rows)
        except (OSError, sqlite3.Error) as e:
            self._failed(e)

    def _failed(self, error: Exception) -> None:
        self.failures += 1
        if self.on_failure is not None:
            self.on_failure()
        now = time.monotonic()
        if now - self._last_failure_log >= FAILURE_LOG_INTERVAL_S:  # a full disk must not flood the log too
            self._last_failure_log = now
            log.error(
                "could not write the gap log %s (%d failure(s) so far; searches are unaffected): %s",
                self.path,
                self.failures,
                error,
            )


def report_gaps(
    path: Path, days: int, limit: int = 50, now: float | None = None, retention_days: int | None = None
) -> list[Gap]:
    """The most often unanswered questions of the last `days`, most frequent first.

    With `retention_days`, nothing older than that is shown even if the service has not pruned it
    yet. Reading never writes: a curator may report on a read-only copy of the log."""
    now = time.time() if now is None else now
    window = min(days, retention_days) if retention_days is not None else days
    with session(Path(path)) as db:
        if db.execute("SELECT name FROM sqlite_master WHERE name = 'gaps'").fetchone() is None:
            return []
        rows = db.execute(
            "SELECT lower(question), count(*), max(asked_at), max(top_score) FROM gaps WHERE asked_at >= ? "
            "GROUP BY lower(question) ORDER BY count(*) DESC, max(asked_at) DESC LIMIT ?",
            (now - window * DAY, limit),
        ).fetchall()
    return [Gap(*row) for row in rows]
