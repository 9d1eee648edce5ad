"""HTML pages: the question page (server-rendered, works without JavaScript) and source documents."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from index import Hit, Searcher

from .api import parse_tags
from .i18n import N_, page_language, translate
from .metrics import record_search
from .query import QueryError, clean_query
from .state import AppState, get_state

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


def group_by_document(hits: list[Hit]) -> list[DocGroup]:
    groups: dict[str, DocGroup] = {}
    for hit in hits:
        g = groups.setdefault(hit.chunk.doc_id, DocGroup(hit.chunk.doc_id, hit.chunk.title, list(hit.chunk.links)))
        g.hits.append(hit)
    return list(groups.values())


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def home(
    request: Request,
    q: str | None = None,
    tag: list[str] = Query(default_factory=list, max_length=50),
    thanks: str | None = None,
    typing: bool = False,
    state: AppState = Depends(get_state),
):
    settings, live, search, templates = state.settings, state.live, state.search, state.templates
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
    }
    status = 200
    if q is not None and q.strip():
        try:
            query = clean_query(q, settings.max_query_chars)
            tags = parse_tags(tag, live.searcher.labels)
        except QueryError as e:
            context["error"], status = translate(state.catalogs, page_language(request, q), e.message), 422
        else:
            result = search(query, settings.default_k, tags=tags)
            record_search(request, result, typing)
            context.update(
                q=query,
                result=result,
                groups=group_by_document(result.hits),
                tags=sorted(tags or ()),
                chips=filter_chips(result.facets, tags or frozenset(), live.searcher),
            )
    return vary_by_language(templates.TemplateResponse(request, "index.html", context, status_code=status))


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
    doc_id: str,
    state: AppState = Depends(get_state),
):
    live, templates = state.live, state.templates
    doc = live.searcher.stored.documents.get(doc_id)
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
