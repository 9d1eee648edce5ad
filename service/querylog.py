"""The curators' gap log: questions nothing answered, so the corpus can grow where readers need it.

Off unless `query_log_path` is set. It keeps only the cleaned question, the time and the top score:
no address, no cookie, no user agent. Entries past the retention are deleted on every write."""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

DAY = 86400.0
SCHEMA = "CREATE TABLE IF NOT EXISTS gaps (asked_at REAL NOT NULL, question TEXT NOT NULL, top_score REAL)"


@dataclass(frozen=True)
class Gap:
    question: str
    times: int
    last_asked: float
    best_score: float | None


class QueryLog:
    def __init__(self, path: Path, retention_days: int):
        self.path = Path(path)
        self.retention = retention_days * DAY
        self._lock = threading.Lock()  # searches run in a thread pool; SQLite wants one writer at a time
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute(SCHEMA)
            db.execute("CREATE INDEX IF NOT EXISTS gaps_time ON gaps (asked_at)")

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=5)

    def record_unanswered(self, question: str, top_score: float | None, now: float | None = None) -> None:
        now = time.time() if now is None else now
        with self._lock, self._connect() as db:
            db.execute("DELETE FROM gaps WHERE asked_at < ?", (now - self.retention,))
            db.execute("INSERT INTO gaps (asked_at, question, top_score) VALUES (?, ?, ?)",
                       (now, question, top_score))


def report_gaps(path: Path, days: int, limit: int = 50, now: float | None = None) -> list[Gap]:
    """The most often unanswered questions of the last `days`, most frequent first."""
    now = time.time() if now is None else now
    with sqlite3.connect(Path(path)) as db:
        db.execute(SCHEMA)
        rows = db.execute(
            "SELECT lower(question), count(*), max(asked_at), max(top_score) FROM gaps WHERE asked_at >= ? "
            "GROUP BY lower(question) ORDER BY count(*) DESC, max(asked_at) DESC LIMIT ?",
            (now - days * DAY, limit)).fetchall()
    return [Gap(*row) for row in rows]
