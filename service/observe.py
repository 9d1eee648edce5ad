"""What every answered search reports: the counters in /metrics and, when on, the curators' gap log."""

from __future__ import annotations

from fastapi import Request

from index import SearchResult

from .feedback import record_question


def record_search(request: Request, result: SearchResult) -> None:
    state = request.app.state
    state.metrics.searches.inc()
    record_question(request, result.query, answered=result.answer is not None)
    if result.answer is None:
        state.metrics.no_answer.inc()
        if state.query_log is not None:
            top = max((h.confidence for h in result.hits), default=None)
            state.query_log.record_unanswered(result.query, None if top is None else round(float(top), 4))
