"""JSON routes: /api/search and /healthz."""

from __future__ import annotations

import difflib
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import Field

from .admin import require_token
from .metrics import record_search
from .query import QueryError, clean_query
from .schemas import ErrorOut, HealthOut, ReadyOut, SearchOut, SiteHealthOut, error_body
from .settings import Settings
from .site import passage_link, public_url
from .sites import fused_search, logged_site, pick_sites, site_status, with_site
from .state import AppState, State

router = APIRouter()
# An empty `tag=` names no filter: refused with the other schema errors (422) rather than read as "no
# filter", so the schema says what the API takes (the page and the widget never send one).
Tag = Annotated[str, Field(min_length=1, max_length=100)]


def passage_url(settings: Settings, doc_id: str, anchor: str, documents: dict | None = None, target: str = "") -> str:
    """site.passage_link, with /source/ under BEACON_PUBLIC_URL or as a relative path; never from the
    request's Host (cache poisoning)."""
    return passage_link(documents or {}, doc_id, anchor, target, base=settings.public_url or "")


@router.get(
    "/api/search",
    response_model=SearchOut,
    # `site` and `sites` only on a server with several sites: a one-site server answers as it always has.
    response_model_exclude_unset=True,
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
    state: State,
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
    site: str | None = Query(
        None,
        description=(
            "On a server with several sites: the site to search, or several separated by commas; left out, all "
            "of them, their results merged by calibrated confidence. Each result names its site."
        ),
        max_length=1024,
    ),
    version: str | None = Query(
        None,
        description="With site: the site's version to search (e.g. 3.11); left out, each site's current one.",
        max_length=32,
    ),
) -> Response:
    settings, search, live = state.settings, state.search, state.live
    started = time.perf_counter()
    query = clean_query(q, settings.max_query_chars)
    k = settings.default_k if k is None else k
    if not 1 <= k <= settings.max_k:
        raise QueryError(f"k must be between 1 and {settings.max_k}, got {k}")
    if state.sites is not None or site is not None or version is not None:
        out = _search_sites(request, state, query, k, tag, site, version, typing, started)
        return Response(out.model_dump_json(exclude_unset=True), media_type="application/json")
    result = search(query, k, tags=parse_tags(tag, search.live.searcher.labels))
    record_search(request, result, typing)
    documents = live.searcher.stored.documents
    out = SearchOut.of(
        result,
        lambda doc, anchor, target="": passage_url(settings, doc, anchor, documents, target),
        took_ms=(time.perf_counter() - started) * 1000,
    )
    # SearchOut.of has validated it; returned as the model, FastAPI would validate it again in a second
    # trip through its thread pool (~0.1 ms) before writing these same bytes.
    # `exclude_unset`: `site` and `sites` only on a server with several sites (response_model_exclude_unset).
    return Response(out.model_dump_json(exclude_unset=True), media_type="application/json")


def _search_sites(request, state: AppState, query, k, tag, site, version, typing, started) -> SearchOut:
    """/api/search on a server with several sites: within the named ones, each result naming its site."""
    if state.sites is None:
        raise QueryError("this server serves one site", "leave site out")
    chosen = pick_sites(site, state.sites, version)
    tags = parse_tags(tag, frozenset().union(*(s.live.searcher.labels for s in chosen)))
    result, hit_sites = fused_search(chosen, query, k, tags)
    record_search(request, result, typing, site=logged_site(result, hit_sites, chosen))
    for s in chosen:
        state.metrics.site_searches.labels(s.key).inc()
    return SearchOut.of(
        result,
        None,
        took_ms=(time.perf_counter() - started) * 1000,
        hit_sites=[(s.name, s.version, site_link(state.settings, s)) for s in hit_sites],
        sites={s.key: sum(1 for h in hit_sites if h is s) for s in chosen},
    )


def site_link(settings: Settings, site) -> Callable[..., str]:
    """Where a passage of `site` is shown: its own page, else this service's /source/ page for that site."""
    documents = site.live.searcher.stored.documents

    def link(doc: str, anchor: str, target: str = "") -> str:
        url = passage_url(settings, doc, anchor, documents, target)
        return url if public_url(documents, doc, target or anchor) else with_site(url, site.key)

    return link


# An unknown filter's 422 names this many unknown ones and this many close matches each: the whole list of
# tags was a 1.4 MB answer to a 30-byte request on a large corpus (issue 21, L3).
SHOWN_UNKNOWN_TAGS = 3
CLOSE_MATCHES = 3


def parse_tags(values: list[str] | None, known: frozenset[str]) -> frozenset[str] | None:
    """The filters of a request, or None for none; an unknown one is a 422 naming a few close matches."""
    tags = frozenset(t.strip().lower() for t in values or () if t.strip())
    unknown = sorted(tags - known)
    if unknown:
        named = []
        for tag in unknown[:SHOWN_UNKNOWN_TAGS]:
            close = close_tags(tag, known)
            named.append(repr(tag) + (f" (did you mean {', '.join(map(repr, close))}?)" if close else ""))
        more = f" and {len(unknown) - SHOWN_UNKNOWN_TAGS} more" if len(unknown) > SHOWN_UNKNOWN_TAGS else ""
        raise QueryError(
            f"unknown tag {', '.join(named)}{more}",
            "the facets field of /api/search's answer lists the known tags with counts; or leave tag out",
        )
    return tags or None


def close_tags(tag: str, known: frozenset[str], pool: int = 2000) -> list[str]:
    """A few known tags spelled like `tag`. difflib over every tag of a large corpus costs up to 0.5 s a
    tag (60,000 tags, 1.4 MB); those that start alike and are about as long, at most `pool`, ~40 ms."""
    near = sorted(k for k in known if k[:1] == tag[:1] and abs(len(k) - len(tag)) <= max(2, len(tag) // 3))
    return difflib.get_close_matches(tag, near[:pool], n=CLOSE_MATCHES)


@router.get(
    "/healthz",
    response_model=HealthOut,
    response_model_exclude_unset=True,  # `sites` only on a server with several sites
    tags=["service"],
    summary="Liveness: the version served and its size",
)
def healthz(
    request: Request,
    state: State,
    # For operators, like the /admin routes: left out of the public schema.
    verbose: str | None = Query(None, include_in_schema=False),
):
    searcher, readiness = state.live.searcher, state.readiness
    # Strangers (and probes) learn that it runs, which version and how big: the manifest (dependency
    # versions, build paths) and the storage URL help an attacker and are for the admin token only.
    public = HealthOut(
        status="ok",
        version=searcher.version,
        chunks=len(searcher.stored.chunks),
        ready=readiness.ready if readiness else None,
    )
    if state.sites is not None:
        public.sites = site_health(state)
    if verbose is None or verbose.strip().lower() in ("0", "false", "no"):
        return public
    if state.settings.admin_token is None:
        detail = "/healthz?verbose needs BEACON_ADMIN_TOKEN set on the service"
        return Response(error_body(detail, VERBOSE_HINT), status_code=404, media_type="application/json")
    require_token(request, state)
    remote = state.remote
    return JSONResponse(
        {
            **public.model_dump(exclude_unset=True),
            "index": asdict(searcher.stored.manifest),
            "remote": remote.as_dict() if remote else None,
        }
    )


def site_health(state: AppState) -> dict[str, SiteHealthOut]:
    # Never loads a site: a probe every few seconds must not pull every site into memory (sites.site_status).
    return {name: SiteHealthOut(**site_status(s)) for name, s in state.sites.items()}


VERBOSE_HINT = "the public /healthz has the status, the version and the chunk count; /metrics has the rest"


@router.get(
    "/readyz",
    response_model=ReadyOut,
    tags=["service"],
    summary="Readiness for load balancers",
    responses={503: {"model": ReadyOut, "description": "Starting (not warmed yet) or draining on SIGTERM."}},
)
def readyz(state: State):
    readiness, live = state.readiness, state.live
    body = {"status": readiness.state, "version": live.searcher.version if live else None}
    if state.sites is not None:
        body["sites"] = {name: h.model_dump() for name, h in site_health(state).items()}
    return JSONResponse(body, status_code=200 if readiness.ready else 503)
