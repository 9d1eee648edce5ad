"""The site the service answers for: its words (from the index version's site.json) and where
each passage lives (the site's own page, else /source/{doc} on this service)."""

from __future__ import annotations

import functools
from pathlib import Path
from urllib.parse import quote

from fastapi import Request

from index.store import read_site_json
from ingest.site import NEUTRAL_COPY, Site

from .i18n import page_language
from .sites import with_site
from .state import state_of

NEUTRAL = Site().public()


@functools.lru_cache(maxsize=8)
def read_site(directory: str) -> dict:
    """The site words of the version in `directory` (its site.json), neutral ones where it has none."""
    try:
        data = read_site_json(Path(directory))
    except (OSError, ValueError):
        data = None
    if data is None:
        return NEUTRAL  # a version built before site files, or without one: neutral words
    return {**NEUTRAL, **data, "copy": {**NEUTRAL_COPY, **(data.get("copy") or {})}}


def live_of(request: Request):
    """The live index a page is for: the site it names on a server with several sites, else the one served."""
    return getattr(request.state, "beacon_live", None) or state_of(request).live


def site_of(request: Request) -> dict:
    live = live_of(request)
    return read_site(str(live.searcher.stored.directory)) if live is not None else NEUTRAL


def source_url(doc_id: str, anchor: str | None = None, base: str = "") -> str:
    """The one place a /source/ link is built: the id and anchor percent-encoded (a file may be named
    `odd"name<x>#frag?q=1 &amp.md`; the slug anchor as it is), relative unless `base` (BEACON_PUBLIC_URL) is given, never from Host."""
    url = f"{base.rstrip('/')}/source/{quote(doc_id, safe='/')}"
    # Anchors are slugs (word characters and '-', ingest/text.py): safe in a fragment as they are, and
    # left readable so CJK anchors match the page's id attributes byte for byte.
    return f"{url}#{anchor}" if anchor else url


def public_url(documents: dict, doc_id: str, anchor: str) -> str | None:
    """The passage on the site's own page (page URL + '#' + section anchor), or None when the
    document has no public URL (it is shown at /source/{doc_id})."""
    doc = documents.get(doc_id)
    url = doc.get("url") if doc else None
    if not url:
        return None
    return f"{url.split('#', 1)[0]}#{anchor}" if anchor else url


def passage_link(documents: dict, doc_id: str, anchor: str, target: str = "", base: str = "") -> str:
    """Where a passage is shown: on the site's own page, at its finer target (an API entry's id) when it
    has one, else on Beacon's /source/ page, which shows sections, at its section anchor."""
    return public_url(documents, doc_id, target or anchor) or source_url(doc_id, anchor, base=base)


def template_context(request: Request) -> dict:
    """For every template: the site's words, and links to passages and documents."""
    live = live_of(request)
    documents = live.searcher.stored.documents if live is not None else {}
    # Over several sites, each hit's site by its chunk (service/pages.py): its documents and /source/ page.
    hit_sites = getattr(request.state, "beacon_hits", None) or {}

    def passage_href(chunk) -> str:
        site = hit_sites.get(id(chunk))
        if site is None:
            return passage_link(documents, chunk.doc_id, chunk.anchor, chunk.target)
        own = site.live.searcher.stored.documents
        link = passage_link(own, chunk.doc_id, chunk.anchor, chunk.target)
        return link if public_url(own, chunk.doc_id, chunk.target or chunk.anchor) else with_site(link, site.key)

    def document_href(doc_id: str, site_name: str = "") -> str:
        site = (state_of(request).sites or {}).get(site_name) if site_name else None
        doc = (site.live.searcher.stored.documents if site else documents).get(doc_id)
        return (doc.get("url") if doc else None) or (
            with_site(source_url(doc_id), site_name) if site else source_url(doc_id)
        )

    site = site_of(request)
    # The words apart as `copy`: in Jinja `site.copy` would be the dict's own copy() method. A page in
    # another language shows the site's [copy.<lang>] words where it gives them.
    lang = page_language(request, request.query_params.get("q"))
    copy = {**site["copy"], **(site.get("translations") or {}).get(lang, {})}
    return {"site": site, "copy": copy, "passage_href": passage_href, "document_href": document_href}
