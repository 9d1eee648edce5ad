"""The JSON API's shapes, defined once for validation and the OpenAPI schema."""

from __future__ import annotations

from collections.abc import Callable

import orjson
from pydantic import BaseModel, Field


class LinkOut(BaseModel):
    text: str
    url: str


class TwinOut(BaseModel):
    lang: str = Field(description="Language of this edition, e.g. 'zh'.")
    doc: str = Field(description="Document id of this edition.")
    url: str = Field(description="Where this edition is shown.")


class SubResultOut(BaseModel):
    id: str = Field(description="Stable passage id.")
    text: str = Field(description="The passage, plain text (not HTML).")
    url: str = Field(description="Where the passage lives (as ResultOut.url).")


class ResultOut(BaseModel):
    id: str = Field(description="Stable passage id: document id + '#' + section anchor.")
    title: str = Field(description="Title of the source document.")
    section: str = Field(description="Heading path of the passage within its document.")
    text: str = Field(description="The passage, plain text (not HTML).")
    url: str = Field(
        description=(
            "Where the passage lives: the site's own page + '#section' when the document has a public URL "
            "(base_url, canonical link or front-matter url), else its permalink on this service (/source/...)."
        )
    )
    links: list[LinkOut] = Field(description="External links of the source document.")
    score: float = Field(description="Relevance; higher is better.")
    weak: bool = Field(
        False,
        description=(
            "True when the passage is only loosely related to the question (low calibrated confidence); "
            "the question page labels it 'Less related'."
        ),
    )
    lang: str = Field("en", description="Language of the passage's edition ('en', 'zh').")
    twins: list[TwinOut] = Field(
        default_factory=list,
        description=(
            "The same document in other languages, for a language switch; results never repeat a "
            "document in two languages."
        ),
    )
    more: list[SubResultOut] = Field(
        default_factory=list,
        description=(
            "Other passages of the same section that also matched, best first: each result is a different "
            "section, and a long section's other parts come here instead of taking a place of their own."
        ),
    )
    site: str | None = Field(
        None, description="On a server with several sites: the site the passage comes from; null otherwise."
    )
    version: str | None = Field(
        None, description="For a site that declares versions: the version the passage comes from (e.g. 3.12)."
    )


class AnswerOut(BaseModel):
    text: str = Field(description="The sentence or two that best answer the question.")
    result: int = Field(description="Index into results of the passage the answer comes from.")


class SearchOut(BaseModel):
    query: str
    answer: AnswerOut | None = Field(description="Null when nothing in the corpus answers the question.")
    results: list[ResultOut]
    took_ms: float
    corrected: str | None = Field(
        None,
        description=(
            "The question as searched when spelling correction changed it (e.g. 'thyriod' became 'thyroid'); "
            "null when it was searched as asked."
        ),
    )
    lang: str = Field(
        "en", description=("The question's language as detected ('en', 'zh'); results come from that edition first.")
    )
    facets: dict[str, int] = Field(
        default_factory=dict,
        description=(
            "Per filter (a document tag or top-level folder), how many of the question's candidate passages "
            "carry it, counted without the filters of this request: what ?tag= would find."
        ),
    )
    sites: dict[str, int] | None = Field(
        None,
        description=(
            "On a server with several sites: each site searched (NAME, or NAME@VERSION for a site with "
            "versions), with how many of the results come from it; absent on a one-site server."
        ),
    )

    @classmethod
    def of(
        cls,
        result,
        link: Callable[..., str] | None,
        took_ms: float,
        hit_sites: list[tuple[str, str | None, Callable[..., str]]] | None = None,
        sites: dict[str, int] | None = None,
    ) -> SearchOut:
        """The one way a search result (index.SearchResult) becomes the API's answer, for /api/search
        and `beacon search --json` alike; `link(doc_id, anchor, target="")` says where a passage is shown.
        Over several sites, `hit_sites` gives each hit's site and link, and `sites` the sites searched."""
        out = cls._of(result, [link] * len(result.hits) if hit_sites is None else [h[2] for h in hit_sites], took_ms)
        if hit_sites is not None:
            for r, (name, version, _) in zip(out.results, hit_sites):
                r.site = name
                if version is not None:
                    r.version = version
            out.sites = sites
        return out

    @classmethod
    def _of(cls, result, links: list[Callable[..., str]], took_ms: float) -> SearchOut:
        return cls(
            query=result.query,
            answer=AnswerOut(text=result.answer.text, result=result.answer.result) if result.answer else None,
            results=[
                ResultOut(
                    id=h.chunk.id,
                    title=h.chunk.title,
                    section=h.chunk.section,
                    text=h.chunk.text,
                    url=link(h.chunk.doc_id, h.chunk.anchor, h.chunk.target),
                    links=[LinkOut(text=l.text, url=l.url) for l in h.chunk.links],
                    score=round(h.score, 4),
                    weak=h.weak,
                    lang=h.lang,
                    twins=[TwinOut(lang=lang, doc=doc, url=link(doc, "").rstrip("#")) for lang, doc in h.twins],
                    more=[SubResultOut(id=c.id, text=c.text, url=link(c.doc_id, c.anchor, c.target)) for c in h.more],
                )
                for h, link in zip(result.hits, links)
            ],
            took_ms=round(took_ms, 2),
            corrected=result.corrected,
            lang=result.lang,
            facets=result.facets,
        )


class ErrorOut(BaseModel):
    """Every JSON error Beacon answers, from any route or middleware (tests/service/test_error_shape.py)."""

    detail: str = Field(description="What is wrong.")
    hint: str | None = Field(None, description="What to do about it, when there is something to do.")


def error_body(detail: str, hint: str | None = None) -> bytes:
    """The one JSON error body, for routes and for the ASGI middleware that answers before any route."""
    return orjson.dumps({"detail": detail, "hint": hint})


class SiteHealthOut(BaseModel):
    version: str | None = Field(
        description="The index version this worker serves for the site; not loaded, the one published for it."
    )
    chunks: int | None = Field(description="How many passages that version holds (null while not loaded).")
    loaded: bool = Field(True, description="Whether this worker holds the site's index in memory (docs/sites.md).")
    error: str | None = Field(
        None, description="Why the site's newest published version could not be swapped in, or the site loaded."
    )


class HealthOut(BaseModel):
    status: str
    version: str = Field(description="The index version this worker is serving now.")
    chunks: int = Field(description="How many passages that version holds.")
    ready: bool | None = Field(None, description="Whether /readyz would answer 200 (warmed, not draining).")
    sites: dict[str, SiteHealthOut] | None = Field(
        None, description="On a server with several sites: each site's version and size (absent otherwise)."
    )


class ReadyOut(BaseModel):
    status: str = Field(description="ready, starting or draining.")
    version: str | None = None
