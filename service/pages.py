"""HTML pages: the question page (server-rendered, works without JavaScript) and source documents."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from index import Hit, Searcher

from .api import parse_tags
from .i18n import N_, page_language, translate
from .metrics import record_search
from .query import QueryError, clean_query
from .sites import fused_search, logged_site, pick_sites
from .state import AppState, State

router = APIRouter()

# query.py's reasons that the page shows in the reader's language (the API keeps them in English);
# tests/service/test_i18n.py checks that they are still the messages clean_query raises.
QUERY_ERRORS = (N_("the question is empty"), N_("the question is not valid UTF-8 text"))


@dataclass
class DocGroup:
    """A document's best sections, shown together under one title."""

    doc_id: str
    title: str
    links: list
    hits: list[Hit] = field(default_factory=list)
    site: str = ""  # on a server with several sites, the site it comes from


def group_by_document(hits: list[Hit], sites: list[str] | None = None) -> list[DocGroup]:
    """Hits under their documents; over several sites (`sites`, each hit's), a document of each site apart."""
    groups: dict[tuple[str, str], DocGroup] = {}
    for i, hit in enumerate(hits):
        key = (sites[i] if sites else "", hit.chunk.doc_id)
        g = groups.setdefault(key, DocGroup(hit.chunk.doc_id, hit.chunk.title, list(hit.chunk.links), site=key[0]))
        g.hits.append(hit)
    return list(groups.values())


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def home(
    request: Request,
    state: State,
    q: str | None = None,
    tag: list[str] = Query(default_factory=list, max_length=50),
    thanks: str | None = None,
    typing: bool = False,
    site: str | None = Query(None, max_length=1024),
    version: str | None = Query(None, max_length=32),
):
    settings, live, search, templates = state.settings, state.live, state.search, state.templates
    chosen, site_error = None, None
    if state.sites is not None:
        try:
            chosen = pick_sites(site, state.sites, version)
        except QueryError as e:
            chosen, site, site_error = [s for s in state.sites.values() if s.current], None, e.message
        if len(chosen) == 1:
            live, search = chosen[0].live, chosen[0].search
            request.state.beacon_live = live  # the site's words and links (site.template_context)
    context: dict = {
        "q": q or "",
        "result": None,
        "groups": [],
        "error": None,
        "topics": topics(live.searcher),
        "tags": [],
        "chips": [],
        "thanks": thanks == "1",
        "max_query_chars": settings.max_query_chars,
        "site_names": list(state.sites) if state.sites is not None else [],
        "site_param": ",".join(s.key for s in chosen) if chosen and (site or "").strip() else "",
        # A site with versions, searched alone: which version this is (the menu switches).
        "site_version": chosen[0].version if chosen and len(chosen) == 1 else None,
        # The site a vote on this page's passages is for, when one site of several is searched.
        "one_site": chosen[0].key if chosen and len(chosen) == 1 else "",
        "answer_site": "",
        "site_counts": [],
    }
    status = 200
    if site_error is not None:
        context["error"], status = site_error, 422
    elif chosen is not None and len(chosen) > 1 and q is not None and q.strip():
        status = _search_sites(request, state, chosen, q, tag, typing, context)
    elif q is not None and q.strip():
        try:
            query = clean_query(q, settings.max_query_chars)
            tags = parse_tags(tag, live.searcher.labels)
        except QueryError as e:
            context["error"], status = translate(state.catalogs, page_language(request, q), e.message), 422
        else:
            result = search(query, settings.default_k, tags=tags)
            record_search(request, result, typing, site=chosen[0].key if chosen else None)
            if chosen:  # one site of several
                state.metrics.site_searches.labels(chosen[0].key).inc()
            context.update(
                q=query,
                result=result,
                groups=group_by_document(result.hits),
                tags=sorted(tags or ()),
                chips=filter_chips(result.facets, tags or frozenset(), live.searcher),
            )
    return vary_by_language(templates.TemplateResponse(request, "index.html", context, status_code=status))


def _search_sites(request: Request, state: AppState, chosen: list, q: str, tag, typing: bool, context: dict) -> int:
    """The page over several sites: results merged by confidence, each under its site's name and linked
    to its site's page (site.template_context reads `beacon_hits`)."""
    try:
        query = clean_query(q, state.settings.max_query_chars)
        tags = parse_tags(tag, frozenset().union(*(s.live.searcher.labels for s in chosen)))
    except QueryError as e:
        context["error"] = translate(state.catalogs, page_language(request, q), e.message)
        return 422
    result, hit_sites = fused_search(chosen, query, state.settings.default_k, tags)
    record_search(request, result, typing, site=logged_site(result, hit_sites, chosen))
    for s in chosen:
        state.metrics.site_searches.labels(s.key).inc()
    request.state.beacon_hits = {id(h.chunk): s for h, s in zip(result.hits, hit_sites)}
    context.update(
        q=query,
        result=result,
        groups=group_by_document(result.hits, [s.key for s in hit_sites]),
        tags=sorted(tags or ()),
        answer_site=hit_sites[result.answer.result].key if result.answer else "",
        # How many results came from each site searched (the API's `sites`), each a link to search it alone.
        site_counts=[(s.key, sum(1 for h in hit_sites if h is s)) for s in chosen],
    )
    return 200


@dataclass(frozen=True)
class Chip:
    label: str
    count: int
    active: bool


MAX_CHIPS = 10


def filter_chips(facets: dict[str, int], active: frozenset[str], searcher: Searcher) -> list[Chip]:
    """The filters worth offering for this question: top-level folders first, then the commonest tags,
    and always the active ones (a filter the reader chose must stay visible to be undone)."""
    folders = {c.doc_id.split("/", 1)[0].lower() for c in searcher.stored.chunks if "/" in c.doc_id}
    ranked = sorted(facets, key=lambda label: (label not in folders, -facets[label], label))
    shown = [label for label in ranked if facets[label] > 0][:MAX_CHIPS]
    shown += sorted(active - set(shown))
    return [Chip(label, facets.get(label, 0), label in active) for label in shown]


def topics(searcher: Searcher) -> list[dict]:
    """A few document titles to suggest when nothing answers the question."""
    return [{"doc_id": d, "title": doc["title"]} for d, doc in sorted(searcher.stored.documents.items())]


@router.get("/source/{doc_id:path}", response_class=HTMLResponse, include_in_schema=False)
def source(
    request: Request,
    state: State,
    doc_id: str,
    site: str | None = Query(None, max_length=64),
):
    live, templates = state.live, state.templates
    if state.sites is not None and site in state.sites:
        live = request.state.beacon_live = state.sites[site].live
    # A site this server does not have holds no document (not the first site's of the same name).
    known = site is None or (state.sites is not None and site in state.sites)
    doc = live.searcher.stored.documents.get(doc_id) if known else None
    if doc is None:
        message = translate(state.catalogs, page_language(request), N_("There is no such document here."))
        return vary_by_language(
            templates.TemplateResponse(request, "error.html", {"status": 404, "message": message}, status_code=404)
        )
    return vary_by_language(templates.TemplateResponse(request, "source.html", {"doc": doc}))


def vary_by_language(response):
    """Pages follow Accept-Language (service/i18n.py), so a shared cache must keep one copy per language."""
    response.headers.append("Vary", "Accept-Language")
    return response
