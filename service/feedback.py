"""Readers' "Did this help?" votes (POST /api/feedback) and the questions they ask, for the curators.

Stored only when the gap log is on (BEACON_QUERY_LOG_PATH), in the curators' log (querylog.py: its
retention, row cap and privacy rules). A failed write is logged and counted
(beacon_feedback_write_failures), never shown to a reader.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from prometheus_client import Counter

from .i18n import normalize
from .query import QueryError, clean_query
from .querylog import CuratorLog
from .state import AppState, state_of

log = logging.getLogger("beacon.feedback")

MAX_BODY_BYTES = 8192  # a question of max_query_chars, a passage id and a few filters fit many times over
MAX_PASSAGE_CHARS = 300


def failure_counter(registry) -> Callable[[], None]:
    counter = Counter(
        "beacon_feedback_write_failures", "Feedback or question-log writes that failed.", registry=registry
    )
    return counter.inc


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
                            "site": {
                                "type": "string",
                                "description": "On a server with several sites: the result's site (NAME or NAME@VERSION).",
                            },
                            "back_site": {
                                "type": "string",
                                "description": "The sites the page searched (its ?site=), to come back to them.",
                            },
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
    state = state_of(request)
    site = _passage_site(state, passage, one("site"))
    lang = normalize(one("lang"))
    store: CuratorLog | None = state.curator_log
    if store is not None:
        store.record_feedback(question, passage, kind, helpful == "yes", lang, site=site)
    if "text/html" not in request.headers.get("accept", ""):
        # Scripts and the widget (Accept: application/json): a plain answer. Browsers submitting the
        # page's form ask for text/html and go back to the page.
        return JSONResponse({"thanks": True})
    query = [("q", question)] + [("tag", t) for t in form.get("tag", []) if t] + ([("lang", lang)] if lang else [])
    # The sites the reader searched (the page's "Search in"), not the voted result's site: back to the
    # same page. The page checks it again like any ?site=.
    if back_site := (one("back_site") or "").strip()[:MAX_PASSAGE_CHARS]:
        query.append(("site", back_site))
    query.append(("thanks", "1"))
    # 303: the browser follows with a GET, so reloading the thank-you page sends nothing again.
    return RedirectResponse("/?" + urlencode(query) + "#thanks", status_code=303)


def _passage_site(state: AppState, passage: str, site: str | None) -> str | None:
    """The site key a vote is logged under (None on a one-site server), once the passage is known to be
    one of that site's: an id from nowhere reached the curators' report as it was sent (escape sequences
    included). A vote without `site` on a server of several (a page or widget from before sites) goes to
    the first site that has the passage."""
    if state.sites is None:
        if site:
            raise QueryError("this server serves one site", "leave site out")
        candidates = [(None, state.live)]
    elif site:
        from .sites import pick_sites  # not at the top: sites → live → limits → this module

        chosen = pick_sites(site, state.sites)
        if len(chosen) != 1:
            raise QueryError("site must name the one site of the result", "send the result's site field")
        candidates = [(chosen[0].key, chosen[0].live)]
    else:
        candidates = [(s.key, s.live) for s in state.sites.values()]
    for key, live in candidates:
        if passage in passage_ids(live.searcher):
            return key
    where = f"site {candidates[0][0]!r}" if site else "the index this service answers from"
    raise QueryError(
        f"{passage!r} is not a passage of {where}",
        "send the id field of a result from /api/search" + (" and its site" if state.sites is not None else ""),
    )


def record_question(request: Request, question: str, answered: bool, site: str | None = None) -> None:
    """Called for every search (see metrics.py): the count behind "most asked" in `beacon report`, and
    the names of the filters it used (checked against the index's labels before the search ran)."""
    store: CuratorLog | None = state_of(request).curator_log
    if store is not None:
        filters = dict.fromkeys(t.strip().lower() for t in request.query_params.getlist("tag") if t.strip())
        store.record_asked(question, answered, filters=filters, site=site)
