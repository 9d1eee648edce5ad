"""JSON routes: /api/search and /healthz."""

from __future__ import annotations

import time
from dataclasses import asdict

from fastapi import APIRouter, Depends, Query, Request

from .cached_search import CachedSearch
from .deps import get_live, get_search, get_settings
from .live import LiveIndex
from .observe import record_search
from .pages import source_url
from .query import QueryError, clean_query
from .schemas import AnswerOut, ErrorOut, HealthOut, LinkOut, ResultOut, SearchOut
from .settings import Settings

router = APIRouter()


def passage_url(request: Request, settings: Settings, doc_id: str, anchor: str) -> str:
    # BEACON_PUBLIC_URL or a path relative to this service; never the request's Host (cache poisoning).
    return source_url(doc_id, anchor, base=settings.public_url or "")


@router.get(
    "/api/search", response_model=SearchOut, tags=["search"],
    responses={
        422: {"model": ErrorOut, "description": "Empty or too long question, or k out of range."},
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
    settings: Settings = Depends(get_settings),
    search: CachedSearch = Depends(get_search),
) -> SearchOut:
    started = time.perf_counter()
    query = clean_query(q, settings.max_query_chars)
    k = settings.default_k if k is None else k
    if not 1 <= k <= settings.max_k:
        raise QueryError(f"k must be between 1 and {settings.max_k}, got {k}")
    result = search(query, k)
    record_search(request, result)
    return SearchOut(
        query=query,
        answer=AnswerOut(text=result.answer.text, result=result.answer.result) if result.answer else None,
        results=[
            ResultOut(
                id=h.chunk.id, title=h.chunk.title, section=h.chunk.section, text=h.chunk.text,
                url=passage_url(request, settings, h.chunk.doc_id, h.chunk.anchor),
                links=[LinkOut(text=l.text, url=l.url) for l in h.chunk.links], score=round(h.score, 4),
                weak=h.weak,
            )
            for h in result.hits
        ],
        took_ms=round((time.perf_counter() - started) * 1000, 2),
        corrected=result.corrected,
    )


@router.get("/healthz", response_model=HealthOut, tags=["service"], summary="Status and the live index's manifest")
def healthz(live: LiveIndex = Depends(get_live)) -> HealthOut:
    searcher = live.searcher
    # Dependency versions help an attacker pick an exploit: they are in /admin/status, not here.
    index = {k: v for k, v in asdict(searcher.stored.manifest).items() if k not in PRIVATE_MANIFEST_FIELDS}
    return HealthOut(status="ok", version=searcher.version, index=index)


PRIVATE_MANIFEST_FIELDS = frozenset({"versions"})
