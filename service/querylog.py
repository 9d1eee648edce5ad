"""The curators' log: the questions nothing answered, every question asked, the "did this help?" votes
and the filters used, so the corpus can grow where readers need it (`beacon report`, /admin).

Off unless `query_log_path` is set. One SQLite file, private to the service's user (0600), with one
rule for all of it: each table keeps only the cleaned question, the passage, yes/no, the page
language, a filter's name, the site and the time (no address, no cookie, no user agent); rows past the retention
are deleted at start-up and on every write and never shown by a report; each table keeps at most
`max_rows` rows, the newest.

Writes are best effort: a reader's search or vote never fails because of the log. A failed write (a
read-only file, a full disk, the file deleted) is counted and logged at most once a minute; the file
and its tables come back on the next write if they went away. Reads open the file read-only and never
create a table: a curator may report on a copy.

On a server with several sites (docs/sites.md) every row says which site it belongs to (`site`: NAME or
NAME@VERSION; NULL on a one-site server and in rows written before sites existed), and every report
takes `site=` to show one site's rows."""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from ingest.errors import BeaconError

DAY = 86400.0
# Each table and its time column: the retention and the row cap apply to every one of them.
TABLES = {"gaps": "asked_at", "asked": "asked_at", "feedback": "given_at", "filter_use": "used_at"}
SCHEMA = """
CREATE TABLE IF NOT EXISTS gaps (asked_at REAL NOT NULL, question TEXT NOT NULL, top_score REAL, site TEXT);
CREATE INDEX IF NOT EXISTS gaps_time ON gaps (asked_at);
-- Every question searched, answered or not: the gaps table keeps only the unanswered ones.
CREATE TABLE IF NOT EXISTS asked (asked_at REAL NOT NULL, question TEXT NOT NULL, answered INTEGER NOT NULL,
    site TEXT);
CREATE INDEX IF NOT EXISTS asked_time ON asked (asked_at);
CREATE TABLE IF NOT EXISTS feedback (given_at REAL NOT NULL, question TEXT NOT NULL, passage TEXT NOT NULL,
    kind TEXT NOT NULL, helpful INTEGER NOT NULL, lang TEXT, site TEXT);
CREATE INDEX IF NOT EXISTS feedback_time ON feedback (given_at);
-- A filter's name each time a search used it; nothing ties it to the question or the reader.
CREATE TABLE IF NOT EXISTS filter_use (used_at REAL NOT NULL, name TEXT NOT NULL, site TEXT);
CREATE INDEX IF NOT EXISTS filter_use_time ON filter_use (used_at);
"""
# What a failed write is called in the log line, per table.
WHAT = {"gaps": "gap", "asked": "question", "feedback": "feedback", "filter_use": "filter"}
FAILURE_LOG_INTERVAL_S = 60.0
log = logging.getLogger("beacon.querylog")


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


def create_tables(db: sqlite3.Connection) -> None:
    """The schema, and the `site` column added to the tables of a log written before sites existed
    (their rows keep site NULL: they were all the one site's)."""
    db.executescript(SCHEMA)
    for table in TABLES:
        if "site" not in _columns(db, table):
            db.execute(f"ALTER TABLE {table} ADD COLUMN site TEXT")


def _columns(db: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in db.execute(f"PRAGMA table_info({table})")}


def _prune(db: sqlite3.Connection, table: str, now: float, retention: float, max_rows: int | None) -> None:
    column = TABLES[table]
    db.execute(f"DELETE FROM {table} WHERE {column} < ?", (now - retention,))
    if max_rows:
        db.execute(
            f"DELETE FROM {table} WHERE rowid IN (SELECT rowid FROM {table} ORDER BY {column} DESC LIMIT -1 OFFSET ?)",
            (max_rows,),
        )


Insert = tuple[str, str, tuple]  # (table, SQL, arguments)


class CuratorLog:
    def __init__(
        self,
        path: Path,
        retention_days: int,
        max_rows: int = 100_000,
        on_failure: Callable[[str], None] | None = None,
    ):
        """Opens (or creates) the log, creates its tables and applies the retention; raises BeaconError
        if it cannot be written. `on_failure(table)` is called for each failed write (metrics)."""
        self.path = Path(path)
        self.retention = retention_days * DAY
        self.max_rows = max_rows
        self.on_failure = on_failure
        self.failures = 0
        self._last_failure_log = -FAILURE_LOG_INTERVAL_S
        self._lock = threading.Lock()  # routes run in a thread pool; SQLite wants one writer at a time
        try:
            create_private(self.path)
            with session(self.path) as db:
                create_tables(db)
                for table in TABLES:
                    _prune(db, table, time.time(), self.retention, self.max_rows)
            with session(self.path) as db:  # a write rolled back: fails now on a read-only file or folder
                db.execute("INSERT INTO gaps (asked_at, question, top_score) VALUES (0, '', NULL)")
                db.rollback()
        except (OSError, sqlite3.Error) as e:
            # One line (no hint line): `beacon serve` and the uvicorn factory print it as is.
            raise BeaconError(
                f"the gap log {self.path} cannot be written ({e}): make it and its folder "
                "writable by this user, or unset BEACON_QUERY_LOG_PATH"
            ) from None

    # `site`: the site key (NAME or NAME@VERSION) the row belongs to, None on a one-site server.

    def record_unanswered(
        self, question: str, top_score: float | None, now: float | None = None, site: str | None = None
    ) -> bool:
        sql = "INSERT INTO gaps (asked_at, question, top_score, site) VALUES (?, ?, ?, ?)"
        return self._write([("gaps", sql, (question, top_score, site))], now)

    def record_asked(
        self,
        question: str,
        answered: bool,
        filters: Iterable[str] = (),
        now: float | None = None,
        site: str | None = None,
    ) -> bool:
        sql = "INSERT INTO asked (asked_at, question, answered, site) VALUES (?, ?, ?, ?)"
        inserts = [("asked", sql, (question, int(answered), site))]
        sql = "INSERT INTO filter_use (used_at, name, site) VALUES (?, ?, ?)"
        inserts += [("filter_use", sql, (name, site)) for name in filters]
        return self._write(inserts, now)

    def record_feedback(
        self,
        question: str,
        passage: str,
        kind: str,
        helpful: bool,
        lang: str | None,
        now: float | None = None,
        site: str | None = None,
    ) -> bool:
        sql = (
            "INSERT INTO feedback (given_at, question, passage, kind, helpful, lang, site) VALUES (?, ?, ?, ?, ?, ?, ?)"
        )
        return self._write([("feedback", sql, (question, passage, kind, int(helpful), lang, site))], now)

    def _write(self, inserts: list[Insert], now: float | None) -> bool:
        """Never raises: the log must not turn a reader's search or vote into an error."""
        now = time.time() if now is None else now
        try:
            with self._lock:
                try:
                    self._insert(inserts, now)
                except sqlite3.OperationalError as e:
                    if "no such table" not in str(e):
                        raise
                    # Someone dropped a table while serving: bring the schema back once and retry.
                    with session(self.path) as db:
                        create_tables(db)
                    self._insert(inserts, now)
            return True
        except (OSError, sqlite3.Error) as e:
            self._failed(inserts[0][0], e)
            return False

    def _insert(self, inserts: list[Insert], now: float) -> None:
        if not self.path.exists():
            create_private(self.path)  # deleted while serving: start a new, private file
            with session(self.path) as db:
                create_tables(db)
        with session(self.path) as db:
            for _, sql, args in inserts:
                db.execute(sql, (now, *args))
            for table in dict.fromkeys(table for table, _, _ in inserts):
                _prune(db, table, now, self.retention, self.max_rows)

    def _failed(self, table: str, error: Exception) -> None:
        self.failures += 1
        if self.on_failure is not None:
            self.on_failure(table)
        now = time.monotonic()
        if now - self._last_failure_log >= FAILURE_LOG_INTERVAL_S:  # a full disk must not flood the log too
            self._last_failure_log = now
            log.error(
                "%s log write failed: could not write %s (%d failure(s) so far; readers are unaffected): %s",
                WHAT[table],
                self.path,
                self.failures,
                error,
            )


# --- reading: what `beacon report` and /admin show -----------------------------------------------


@dataclass(frozen=True)
class Gap:
    question: str
    times: int
    last_asked: float
    best_score: float | None
    site: str | None = None  # the site asked, on a log of several sites


@dataclass(frozen=True)
class Unhelpful:
    question: str
    passage: str
    kind: str  # "answer" or "result"
    times: int
    last: float
    site: str | None = None  # the passage's site, on a log of several sites


@dataclass(frozen=True)
class Asked:
    question: str
    times: int
    answered_share: float  # of those times, how often an answer was given
    site: str | None = None


@dataclass(frozen=True)
class DayCounts:
    day: str  # YYYY-MM-DD, UTC
    asked: int
    answered: int
    unanswered: int
    unhelpful: int  # "did not help" votes


def _since(days: int, now: float | None, retention_days: int | None) -> float:
    """The oldest time a report shows: `days` back, and never past the retention, even before the
    service has pruned (it prunes on writes, and a copy of the file is never pruned)."""
    now = time.time() if now is None else now
    window = min(days, retention_days) if retention_days is not None else days
    return now - window * DAY


def _read(path: Path, table: str, sql: str, since: float, site: str | None = None, more: tuple = ()) -> list[tuple]:
    """Rows of `sql` on a read-only connection; none when the file or the table is not there.

    `sql` takes `since` as its first argument, then `more`. It names the site column `{site}` (NULL in a
    log written before sites: read-only, so it is not migrated), and has `{of_site}` right after its
    `>= ?`, where the condition for one site's rows goes: NAME is the site in every version (NAME and
    NAME@V), NAME@V that version; nothing for site None."""
    path = Path(path)
    if not path.is_file():
        return []
    db = sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=ro", uri=True, timeout=5)
    try:
        if db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).fetchone() is None:
            return []
        column = "site" if "site" in _columns(db, table) else "NULL"
        of_site, args = "", (since, *more)
        if site is not None:
            of_site = f" AND ({column} = ? OR substr({column}, 1, ?) = ?)"
            args = (since, site, len(site) + 1, site + "@", *more)
        return db.execute(sql.format(site=column, of_site=of_site), args).fetchall()
    finally:
        db.close()


def report_gaps(
    path: Path,
    days: int,
    limit: int = 50,
    now: float | None = None,
    retention_days: int | None = None,
    site: str | None = None,
) -> list[Gap]:
    """The most often unanswered questions of the last `days`, most frequent first; each site's apart."""
    rows = _read(
        path,
        "gaps",
        "SELECT lower(question), count(*), max(asked_at), max(top_score), {site} FROM gaps WHERE asked_at >= ?"
        "{of_site} GROUP BY {site}, lower(question) ORDER BY count(*) DESC, max(asked_at) DESC LIMIT ?",
        _since(days, now, retention_days),
        site,
        (limit,),
    )
    return [Gap(*row) for row in rows]


def report_unhelpful(
    path: Path,
    days: int,
    limit: int = 50,
    now: float | None = None,
    retention_days: int | None = None,
    site: str | None = None,
) -> list[Unhelpful]:
    """Passages readers marked unhelpful, with the question, most often first."""
    rows = _read(
        path,
        "feedback",
        "SELECT lower(question), passage, kind, count(*), max(given_at), {site} FROM feedback "
        "WHERE given_at >= ?{of_site} AND helpful = 0 GROUP BY {site}, lower(question), passage, kind "
        "ORDER BY count(*) DESC, max(given_at) DESC LIMIT ?",
        _since(days, now, retention_days),
        site,
        (limit,),
    )
    return [Unhelpful(*row) for row in rows]


def report_asked(
    path: Path,
    days: int,
    limit: int = 20,
    now: float | None = None,
    retention_days: int | None = None,
    site: str | None = None,
) -> list[Asked]:
    """The most asked questions of the last `days`."""
    rows = _read(
        path,
        "asked",
        "SELECT lower(question), count(*), avg(answered), {site} FROM asked WHERE asked_at >= ?"
        "{of_site} GROUP BY {site}, lower(question) ORDER BY count(*) DESC, max(asked_at) DESC LIMIT ?",
        _since(days, now, retention_days),
        site,
        (limit,),
    )
    return [Asked(*row) for row in rows]


def helpful_counts(
    path: Path, days: int, now: float | None = None, retention_days: int | None = None, site: str | None = None
) -> tuple[int, int]:
    """(helpful, unhelpful) votes in the last `days`."""
    rows = _read(
        path,
        "feedback",
        "SELECT coalesce(sum(helpful), 0), coalesce(sum(1 - helpful), 0) FROM feedback WHERE given_at >= ?{of_site}",
        _since(days, now, retention_days),
        site,
    )
    ((yes, no),) = rows or [(0, 0)]
    return int(yes), int(no)


def filter_counts(
    path: Path, days: int, now: float | None = None, retention_days: int | None = None, site: str | None = None
) -> list[tuple[str, int]]:
    """How often each filter was used in the last `days`, most used first."""
    return _read(
        path,
        "filter_use",
        "SELECT name, count(*) FROM filter_use WHERE used_at >= ?{of_site} GROUP BY name ORDER BY count(*) DESC, name",
        _since(days, now, retention_days),
        site,
    )


def daily_counts(
    path: Path, days: int, now: float | None = None, retention_days: int | None = None, site: str | None = None
) -> list[DayCounts]:
    """Per day (UTC) of the window, oldest first, every day present even when nothing happened."""
    now = time.time() if now is None else now
    since = _since(days, now, retention_days)
    day = "strftime('%Y-%m-%d', {time}, 'unixepoch')"
    asked = _read(
        path,
        "asked",
        f"SELECT {day.format(time='asked_at')}, count(*), coalesce(sum(answered), 0) FROM asked "
        "WHERE asked_at >= ?{of_site} GROUP BY 1",
        since,
        site,
    )
    unhelpful = _read(
        path,
        "feedback",
        f"SELECT {day.format(time='given_at')}, count(*) FROM feedback WHERE given_at >= ?{{of_site}} "
        "AND helpful = 0 GROUP BY 1",
        since,
        site,
    )
    by_day = {d: (n, int(yes)) for d, n, yes in asked}
    votes = dict(unhelpful)
    first, last = int(since // DAY), int(now // DAY)
    out = []
    for n in range(first, last + 1):
        d = time.strftime("%Y-%m-%d", time.gmtime(n * DAY))
        total, answered = by_day.get(d, (0, 0))
        out.append(DayCounts(d, total, answered, total - answered, votes.get(d, 0)))
    return out
