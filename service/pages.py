"""HTML pages: the question page (server-rendered, works without JavaScript) and source documents."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from index import Hit, Searcher

from .cached_search import CachedSearch
from .deps import get_live, get_search, get_settings, get_templates
from .live import LiveIndex
from .observe import record_search
from .query import QueryError, clean_query
from .settings import Settings

router = APIRouter()


def source_url(doc_id: str, anchor: str | None = None, base: str = "") -> str:
    """The one place a /source/ link is built: the id and anchor percent-encoded (a file may be named
    `odd"name<x>#frag?q=1 &amp.md`; the slug anchor as it is), relative unless `base` (BEACON_PUBLIC_URL) is given, never from Host."""
    url = f"{base.rstrip('/')}/source/{quote(doc_id, safe='/')}"
    # Anchors are slugs (word characters and '-', ingest/text.py): safe in a fragment as they are, and
    # left readable so CJK anchors match the page's id attributes byte for byte.
    return f"{url}#{anchor}" if anchor else url


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
    settings: Settings = Depends(get_settings),
    live: LiveIndex = Depends(get_live),
    search: CachedSearch = Depends(get_search),
    templates: Jinja2Templates = Depends(get_templates),
):
    context: dict = {"q": q or "", "result": None, "groups": [], "error": None, "topics": topics(live.searcher)}
    status = 200
    if q is not None and q.strip():
        try:
            query = clean_query(q, settings.max_query_chars)
        except QueryError as e:
            context["error"], status = e.message, 422
        else:
            result = search(query, settings.default_k)
            record_search(request, result)
            context.update(q=query, result=result, groups=group_by_document(result.hits))
    return templates.TemplateResponse(request, "index.html", context, status_code=status)


def topics(searcher: Searcher) -> list[dict]:
    """A few document titles to suggest when nothing answers the question."""
    return [{"doc_id": d, "title": doc["title"], "url": source_url(d)}
            for d, doc in sorted(searcher.stored.documents.items())]


@router.get("/source/{doc_id:path}", response_class=HTMLResponse, include_in_schema=False)
def source(
    request: Request,
    doc_id: str,
    live: LiveIndex = Depends(get_live),
    templates: Jinja2Templates = Depends(get_templates),
):
    doc = live.searcher.stored.documents.get(doc_id)
    if doc is None:
        return templates.TemplateResponse(
            request, "error.html", {"status": 404, "message": "There is no such document here."}, status_code=404)
    return templates.TemplateResponse(request, "source.html", {"doc": doc})
