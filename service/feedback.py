"""Readers' "Did this help?" and the questions they ask, for the curators' `beacon report`.

Stored only when the gap log is on (BEACON_QUERY_LOG_PATH): two more tables in the same SQLite file
(`feedback`, `asked`), with the same retention. Like the gap log it keeps the cleaned question, the
passage, yes/no, the page language and the time: no address, no cookie, no user agent. Writes are
best effort: a failure is logged and counted (beacon_feedback_write_failures), never shown to a reader.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from prometheus_client import Counter

from .i18n import normalize
from .query import QueryError, clean_query
from .querylog import create_private, session
from .state import state_of

log = logging.getLogger("beacon.feedback")

DAY = 86400.0
SCHEMA = (
    (
        "CREATE TABLE IF NOT EXISTS feedback (given_at REAL NOT NULL, question TEXT NOT NULL, passage TEXT NOT NULL, "
        "kind TEXT NOT NULL, helpful INTEGER NOT NULL, lang TEXT)"
    ),
    "CREATE INDEX IF NOT EXISTS feedback_time ON feedback (given_at)",
    # Every question searched, answered or not: the gap log keeps only the unanswered ones.
    "CREATE TABLE IF NOT EXISTS asked (asked_at REAL NOT NULL, question TEXT NOT NULL, answered INTEGER NOT NULL)",
    "CREATE INDEX IF NOT EXISTS asked_time ON asked (asked_at)",
)
MAX_BODY_BYTES = 8192  # a question of max_query_chars, a passage id and a few filters fit many times over
MAX_PASSAGE_CHARS = 300


class FeedbackLog:
    def __init__(self, path: Path, retention_days: int, on_failure: Callable[[], None] = lambda: None):
        self.path = Path(path)
        self.retention = retention_days * DAY
        self.on_failure = on_failure
        self._lock = threading.Lock()  # routes run in a thread pool; SQLite wants one writer at a time
        self._write(lambda db: None)  # creates the file and tables now, so a bad path shows in the log at start

    def _write(self, action: Callable[[sqlite3.Connection], None]) -> bool:
        try:
            with self._lock:
                # The gap log's own file rules: created 0600, each connection closed (querylog.py).
                if not self.path.exists():
                    create_private(self.path)
                with session(self.path) as db:
                    # Every write re-creates what is missing: someone may have deleted the file or a table.
                    for statement in SCHEMA:
                        db.execute(statement)
                    action(db)
            return True
        except (sqlite3.Error, OSError) as e:
            log.warning("feedback log write failed: %s", e)
            self.on_failure()
            return False

    def record_feedback(
        self, question: str, passage: str, kind: str, helpful: bool, lang: str | None, now: float | None = None
    ) -> bool:
        now = time.time() if now is None else now

        def insert(db: sqlite3.Connection) -> None:
            db.execute("DELETE FROM feedback WHERE given_at < ?", (now - self.retention,))
            db.execute(
                "INSERT INTO feedback (given_at, question, passage, kind, helpful, lang) VALUES (?, ?, ?, ?, ?, ?)",
                (now, question, passage, kind, int(helpful), lang),
            )

        return self._write(insert)

    def record_asked(self, question: str, answered: bool, now: float | None = None) -> bool:
        now = time.time() if now is None else now

        def insert(db: sqlite3.Connection) -> None:
            db.execute("DELETE FROM asked WHERE asked_at < ?", (now - self.retention,))
            db.execute(
                "INSERT INTO asked (asked_at, question, answered) VALUES (?, ?, ?)", (now, question, int(answered))
            )

        return self._write(insert)


def failure_counter(registry) -> Callable[[], None]:
    counter = Counter(
        "beacon_feedback_write_failures", "Feedback or question-log writes that failed.", registry=registry
    )
    return counter.inc


@dataclass(frozen=True)
class Unhelpful:
    question: str
    passage: str
    kind: str  # "answer" or "result"
    times: int
    last: float


@dataclass(frozen=True)
class Asked:
    question: str
    times: int
    answered_share: float  # of those times, how often an answer was given


def _read(path: Path, sql: str, args: tuple) -> list[tuple]:
    with session(Path(path)) as db:
        for statement in SCHEMA:
            db.execute(statement)
        return db.execute(sql, args).fetchall()


def report_unhelpful(path: Path, days: int, limit: int = 50, now: float | None = None) -> list[Unhelpful]:
    """Passages readers marked unhelpful, with the question, most often first."""
    now = time.time() if now is None else now
    rows = _read(
        path,
        "SELECT lower(question), passage, kind, count(*), max(given_at) FROM feedback "
        "WHERE given_at >= ? AND helpful = 0 GROUP BY lower(question), passage, kind "
        "ORDER BY count(*) DESC, max(given_at) DESC LIMIT ?",
        (now - days * DAY, limit),
    )
    return [Unhelpful(*row) for row in rows]


def report_asked(path: Path, days: int, limit: int = 20, now: float | None = None) -> list[Asked]:
    """The most asked questions of the last `days`."""
    now = time.time() if now is None else now
    rows = _read(
        path,
        "SELECT lower(question), count(*), avg(answered) FROM asked WHERE asked_at >= ? "
        "GROUP BY lower(question) ORDER BY count(*) DESC, max(asked_at) DESC LIMIT ?",
        (now - days * DAY, limit),
    )
    return [Asked(*row) for row in rows]


def helpful_counts(path: Path, days: int, now: float | None = None) -> tuple[int, int]:
    """(helpful, unhelpful) answers in the last `days`."""
    now = time.time() if now is None else now
    ((yes, no),) = _read(
        path,
        "SELECT coalesce(sum(helpful), 0), coalesce(sum(1 - helpful), 0) FROM feedback WHERE given_at >= ?",
        (now - days * DAY,),
    )
    return int(yes), int(no)


router = APIRouter()
_passage_ids: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # per live searcher, dropped with it


def passage_ids(searcher) -> frozenset[str]:
    """The ids of the passages a searcher answers from, built once per index version (~10 ms per 10,000)."""
    ids = _passage_ids.get(searcher)
    if ids is None:
        ids = _passage_ids[searcher] = frozenset(c.id for c in searcher.stored.chunks)
    return ids


@router.post(
    "/api/feedback",
    tags=["feedback"],
    status_code=200,
    summary="Say whether an answer or a passage helped",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "required": ["q", "passage", "helpful"],
                        "properties": {
                            "q": {"type": "string", "description": "The question as asked."},
                            "passage": {"type": "string", "description": "The result's id."},
                            "kind": {"type": "string", "enum": ["answer", "result"], "default": "result"},
                            "helpful": {"type": "string", "enum": ["yes", "no"]},
                            "lang": {"type": "string", "description": "The page's language, to come back to it."},
                            "tag": {
                                "type": "array",
                                "items": {"type": "string"},
                                "description": "Filters, to come back to them.",
                            },
                        },
                    }
                }
            },
        }
    },
    responses={
        200: {"description": "Thanks, in JSON (scripts and the widget)."},
        303: {"description": "Back to the question page with a thank-you (a browser's form: Accept text/html)."},
        422: {"description": "A missing or invalid field."},
    },
)
async def give_feedback(request: Request) -> Response:
    """Form-encoded, so the page's <form method=post> works without JavaScript and the widget's fetch
    stays a CORS "simple" request (no preflight). Stored only when the gap log is on."""
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise QueryError(f"the feedback is larger than {MAX_BODY_BYTES} bytes")
    form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)

    def one(name: str, default: str | None = None) -> str | None:
        values = form.get(name)
        return values[0] if values else default

    settings = state_of(request).settings
    question = clean_query(one("q"), settings.max_query_chars)
    passage, kind, helpful = one("passage", ""), one("kind", "result"), one("helpful")
    if not passage or len(passage) > MAX_PASSAGE_CHARS:
        raise QueryError("passage must be a result's id", "send the id field of the result")
    if kind not in ("answer", "result"):
        raise QueryError(f"kind must be 'answer' or 'result', got {kind!r}")
    if helpful not in ("yes", "no"):
        raise QueryError(f"helpful must be 'yes' or 'no', got {helpful!r}")
    live = state_of(request).live
    if passage not in passage_ids(live.searcher):
        # An id from nowhere reached the curators' report as it was sent (escape sequences included).
        raise QueryError(
            f"{passage!r} is not a passage of the index this service answers from",
            "send the id field of a result from /api/search",
        )
    lang = normalize(one("lang"))
    store: FeedbackLog | None = state_of(request).feedback
    if store is not None:
        store.record_feedback(question, passage, kind, helpful == "yes", lang)
    if "text/html" not in request.headers.get("accept", ""):
        # Scripts and the widget (Accept: application/json): a plain answer. Browsers submitting the
        # page's form ask for text/html and go back to the page.
        return JSONResponse({"thanks": True})
    query = [("q", question)] + [("tag", t) for t in form.get("tag", []) if t] + ([("lang", lang)] if lang else [])
    query.append(("thanks", "1"))
    # 303: the browser follows with a GET, so reloading the thank-you page sends nothing again.
    return RedirectResponse("/?" + urlencode(query) + "#thanks", status_code=303)


def record_question(request: Request, question: str, answered: bool) -> None:
    """Called for every search (see observe.py): the count behind "most asked" in `beacon report`."""
    store: FeedbackLog | None = state_of(request).feedback
    if store is not None:
        store.record_asked(question, answered)
