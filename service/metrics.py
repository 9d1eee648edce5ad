"""Prometheus metrics: request latency by route, searches, unanswered searches, and the live index version.

With several uvicorn workers set PROMETHEUS_MULTIPROC_DIR (an empty folder) before starting:
each worker writes its numbers there and /metrics adds them up across workers."""

from __future__ import annotations

import os
import time

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from starlette.requests import Request
from starlette.responses import Response

from index import SearchResult

from .feedback import record_question
from .state import state_of

disable_created_metrics()  # the *_created series double the output and nothing here reads them

# Latencies of a search service: most answers take milliseconds, a cold or overloaded one seconds.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """One set per app, in its own registry, so several apps in one test process don't collide."""

    def __init__(self):
        self.registry = CollectorRegistry(auto_describe=True)
        self.latency = Histogram(
            "beacon_request_seconds",
            "Time to answer a request, by route.",
            ["route", "method", "status"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.searches = Counter("beacon_searches", "Searches answered (API and page).", registry=self.registry)
        self.no_answer = Counter(
            "beacon_searches_without_answer",
            "Searches for which nothing in the corpus was a confident answer.",
            registry=self.registry,
        )
        # Labelled by the server file's site names (NAME or NAME@VERSION), never by a request's words: a
        # bounded set. A search over several sites counts once for each.
        self.site_searches = Counter(
            "beacon_site_searches",
            "Searches per site, on a server with several sites (docs/sites.md).",
            ["site"],
            registry=self.registry,
        )
        # With BEACON_MAX_LOADED_SITES: which sites this worker holds in memory, and how often each was loaded.
        self.site_loaded = Gauge(
            "beacon_site_loaded",
            "1 while a site's index is loaded (in any worker), 0 once evicted (docs/sites.md).",
            ["site"],
            multiprocess_mode="max",
            registry=self.registry,
        )
        self.site_loads = Counter(
            "beacon_site_loads", "Loads of a site's index on its first use.", ["site"], registry=self.registry
        )
        self.gap_log_failures = Counter(
            "beacon_gap_log_write_failures",
            "Gap-log writes that failed (read-only file, full disk...); searches went on.",
            registry=self.registry,
        )
        self.index = Gauge(
            "beacon_index_info",
            "1 for the index version this worker serves.",
            ["version"],
            multiprocess_mode="max",
            registry=self.registry,
        )
        self._version: str | None = None

    def set_index_version(self, version: str) -> None:
        if version != self._version:
            if self._version is not None:
                self.index.labels(self._version).set(0)
            self.index.labels(version).set(1)
            self._version = version

    def exposition(self) -> bytes:
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry)
        return generate_latest(self.registry)


def metrics_endpoint(request: Request) -> Response:
    state = state_of(request)
    metrics, live = state.metrics, state.live
    if live is not None:  # read at scrape time, so a reload by anyone shows without a hook
        metrics.set_index_version(live.searcher.version)
    return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)


def route_label(scope) -> str:
    """The route's template (/source/{doc_id:path}), never the raw path: labels stay few."""
    if "beacon.route" in scope:  # refused by the abuse guard (429, 503) before routing: see service/limits.py
        return scope["beacon.route"]
    route = scope.get("route")
    path = getattr(route, "path", None)
    if path is not None:
        return path
    if "app_root_path" in scope:  # inside a Mount (static files): the mount's prefix
        return scope["root_path"] or "mount"
    if "endpoint" in scope and not scope.get("path_params"):  # a plain Starlette route: its path is its template
        return scope["path"]
    return "unmatched"


class RequestObserver:
    """Pure ASGI middleware: times each request into the histogram and writes one log line without the query."""

    def __init__(self, app, metrics: Metrics, log):
        self.app = app
        self.metrics = metrics
        self.log = log

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        status = 500

        async def observing_send(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, observing_send)
        finally:
            seconds = time.perf_counter() - started
            route = route_label(scope)
            self.metrics.latency.labels(route, scope["method"], str(status)).observe(seconds)
            # The path only: query strings hold readers' health questions and never go to the log.
            self.log.info(
                "request",
                extra={
                    "fields": {
                        "method": scope["method"],
                        "path": scope["path"] if route != "unmatched" else "(unmatched)",
                        "route": route,
                        "status": status,
                        "ms": round(seconds * 1000, 2),
                    }
                },
            )


def record_search(request: Request, result: SearchResult, typing: bool = False, site: str | None = None) -> None:
    """Count a search; store its question (most asked, unanswered) unless it is still being typed, under
    `site` (the site key it is logged under, sites.logged_site) on a server with several sites.

    Search-as-you-type sends every pause of a reader's typing ("how do i", "how do i talk t"): stored,
    those fragments would fill the curator's report. The page and the widget mark them `typing=1`
    and ask once more, unmarked, when the reader stops or presses Enter.
    """
    state = state_of(request)
    state.metrics.searches.inc()
    if not typing:
        record_question(request, result.query, answered=result.answer is not None, site=site)
    if result.answer is None:
        state.metrics.no_answer.inc()
        if state.curator_log is not None and not typing:
            top = max((h.confidence for h in result.hits), default=None)
            state.curator_log.record_unanswered(result.query, None if top is None else round(float(top), 4), site=site)
