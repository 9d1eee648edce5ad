"""JSON routes: /api/search and /healthz."""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import Field

from .metrics import record_search
from .query import QueryError, clean_query
from .schemas import ErrorOut, HealthOut, ReadyOut, SearchOut
from .settings import Settings
from .site import passage_link
from .state import AppState, get_state

router = APIRouter()
# An empty `tag=` names no filter: refused with the other schema errors (422) rather than read as "no
# filter", so the schema says what the API takes (the page and the widget never send one).
Tag = Annotated[str, Field(min_length=1, max_length=100)]


def passage_url(
    request: Request, settings: Settings, doc_id: str, anchor: str, documents: dict | None = None, target: str = ""
) -> str:
    """site.passage_link, with /source/ under BEACON_PUBLIC_URL or as a relative path; never from the
    request's Host (cache poisoning)."""
    return passage_link(documents or {}, doc_id, anchor, target, base=settings.public_url or "")


@router.get(
    "/api/search",
    response_model=SearchOut,
    tags=["search"],
    responses={
        422: {"model": ErrorOut, "description": "Empty or too long question, k out of range, or an unknown tag."},
        414: {"model": ErrorOut, "description": "The address is longer than the service accepts."},
        429: {"model": ErrorOut, "description": "Too many searches from one address; see Retry-After."},
        503: {"model": ErrorOut, "description": "Busy or too slow right now; see Retry-After."},
    },
    summary="Answer a question with cited passages",
)
def api_search(
    request: Request,
    q: str = Query(..., description="The question, in any language.", max_length=4096),
    k: int | None = Query(None, description="How many passages to return (1 to max_k, default 5)."),
    tag: list[Tag] | None = Query(
        None,
        description=(
            "Only passages with this tag or in this top-level folder (e.g. online, tips); repeat for several, "
            "a passage needs any one of them. `facets` in the answer lists the known filters with counts."
        ),
        max_length=50,
    ),
    typing: bool = Query(
        False,
        description="Set by search-as-you-type: a question still being typed, counted but not stored in the report.",
    ),
    state: AppState = Depends(get_state),
) -> SearchOut:
    settings, search, live = state.settings, state.search, state.live
    started = time.perf_counter()
    query = clean_query(q, settings.max_query_chars)
    k = settings.default_k if k is None else k
    if not 1 <= k <= settings.max_k:
        raise QueryError(f"k must be between 1 and {settings.max_k}, got {k}")
    result = search(query, k, tags=parse_tags(tag, search.live.searcher.labels))
    record_search(request, result, typing)
    documents = live.searcher.stored.documents
    return SearchOut.of(
        result,
        lambda doc, anchor, target="": passage_url(request, settings, doc, anchor, documents, target),
        took_ms=(time.perf_counter() - started) * 1000,
    )


def parse_tags(values: list[str] | None, known: frozenset[str]) -> frozenset[str] | None:
    """The filters of a request, or None for none; an unknown one is a 422 listing those that exist."""
    tags = frozenset(t.strip().lower() for t in values or () if t.strip())
    unknown = sorted(tags - known)
    if unknown:
        raise QueryError(
            f"unknown tag {', '.join(map(repr, unknown))}; known tags: {', '.join(sorted(known))}",
            "use one of the known tags, or leave tag out",
        )
    return tags or None


@router.get("/healthz", response_model=HealthOut, tags=["service"], summary="Liveness, and the live index's manifest")
def healthz(state: AppState = Depends(get_state)) -> HealthOut:
    live = state.live
    searcher = live.searcher
    readiness, remote = state.readiness, state.remote
    # Dependency versions help an attacker pick an exploit: they are in /admin/status, not here.
    index = {k: v for k, v in asdict(searcher.stored.manifest).items() if k not in PRIVATE_MANIFEST_FIELDS}
    return HealthOut(
        status="ok",
        version=searcher.version,
        index=index,
        ready=readiness.ready if readiness else None,
        remote=remote.as_dict() if remote else None,
    )


PRIVATE_MANIFEST_FIELDS = frozenset({"versions"})


@router.get(
    "/readyz",
    response_model=ReadyOut,
    tags=["service"],
    summary="Readiness for load balancers",
    responses={503: {"model": ReadyOut, "description": "Starting (not warmed yet) or draining on SIGTERM."}},
)
def readyz(state: AppState = Depends(get_state)):
    readiness, live = state.readiness, state.live
    body = {"status": readiness.state, "version": live.searcher.version if live else None}
    return JSONResponse(body, status_code=200 if readiness.ready else 503)
