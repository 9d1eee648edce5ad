"""The JSON API's shapes, defined once for validation and the OpenAPI schema."""

from __future__ import annotations

from pydantic import BaseModel, Field


class LinkOut(BaseModel):
    text: str
    url: str


class ResultOut(BaseModel):
    id: str = Field(description="Stable passage id: document id + '#' + section anchor.")
    title: str = Field(description="Title of the source document.")
    section: str = Field(description="Heading path of the passage within its document.")
    text: str = Field(description="The passage, plain text (not HTML).")
    url: str = Field(description="Permalink to the passage in context on this service.")
    links: list[LinkOut] = Field(description="External links of the source document.")
    score: float = Field(description="Relevance; higher is better.")
    weak: bool = Field(False, description=(
        "True when the passage is only loosely related to the question (low calibrated confidence); "
        "the question page labels it 'Less related'."))


class AnswerOut(BaseModel):
    text: str = Field(description="The sentence or two that best answer the question.")
    result: int = Field(description="Index into results of the passage the answer comes from.")


class SearchOut(BaseModel):
    query: str
    answer: AnswerOut | None = Field(description="Null when nothing in the corpus answers the question.")
    results: list[ResultOut]
    took_ms: float
    corrected: str | None = Field(None, description=(
        "The question as searched when spelling correction changed it (e.g. 'thyriod' became 'thyroid'); "
        "null when it was searched as asked."))
    facets: dict[str, int] = Field(default_factory=dict, description=(
        "Per filter (a document tag or top-level folder), how many of the question's candidate passages "
        "carry it, counted without the filters of this request: what ?tag= would find."))


class ErrorOut(BaseModel):
    detail: str


class HealthOut(BaseModel):
    status: str
    version: str = Field(description="The index version this worker is serving now.")
    index: dict
