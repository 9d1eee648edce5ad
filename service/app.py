"""The app factory: wires settings, the model and the live index into a FastAPI application."""

from __future__ import annotations

import logging
import os
import sys
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from index import Embedder, load_version
from index.publish import current_dir
from index.remote import RemoteMirror, read_signing_key
from index.store import StoredIndex
from ingest.errors import BeaconError

from . import __version__, admin, api, dashboard, feedback, i18n, pages, widget
from .connections import configure as configure_connections
from .highlight import highlight, highlight_answer, passage_html
from .limits import AbuseGuard, BodyLimit, SearchBusy, SearchSlots
from .live import CachedSearch, IndexPoller, LiveIndex, RemotePoller, RemoteStatus, first_sync
from .logs import configure as configure_logging
from .metrics import Metrics, RequestObserver, metrics_endpoint
from .querylog import CuratorLog
from .readiness import Readiness
from .schemas import error_body
from .security import (
    ErrorShield,
    ForwardedProto,
    HeadAsGet,
    HostCheck,
    OriginCheck,
    SearchCORS,
    SecurityHeaders,
    add_offline_docs,
)
from .settings import Settings, settings_from_workers_env
from .site import NEUTRAL, source_url, template_context
from .state import AppState

HERE = Path(__file__).parent
log = logging.getLogger("beacon.service")


def _templates(catalogs) -> Jinja2Templates:
    # autoescape is on for .html; every page gets the site's words and passage links (site.py) and
    # learns its language from the request (i18n.py).
    templates = Jinja2Templates(
        directory=str(HERE / "templates"), context_processors=[template_context, i18n.page_context]
    )
    i18n.install(templates.env, catalogs)
    templates.env.filters["highlight"] = highlight
    templates.env.filters["highlight_answer"] = highlight_answer
    templates.env.filters["passage_html"] = passage_html  # code blocks as <pre><code>
    # Every /source/ link comes from this one function, so odd ids are encoded the same everywhere.
    templates.env.globals["source_url"] = source_url
    return templates


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def remote_mirror(settings: Settings) -> RemoteMirror:
    """A replica's mirror of BEACON_INDEX_URL: its download cap, and the key versions must be signed with."""
    key = read_signing_key(settings.signing_key_file) if settings.signing_key_file else None
    return RemoteMirror(
        settings.index_url, settings.index_dir, settings.keep_versions, settings.remote_max_file_bytes, key
    )


def create_app(settings: Settings, embedder: Embedder | None = None, stored: StoredIndex | None = None) -> FastAPI:
    """Build the service. The model and index load once, at startup, and are shared by all requests;
    `stored` is the live version when the caller has loaded it already."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        model = embedder or Embedder(settings.model, backend=settings.encoder, threads=settings.encoder_threads)
        mirror = None
        try:
            if settings.index_url:  # a replica: mirror object storage into index_dir (docs/deploy.md)
                mirror = remote_mirror(settings)
                state.remote = RemoteStatus(settings.index_url)
                state.remote.export_to(state.metrics.registry)
                first_sync(mirror, state.remote, settings.remote_poll_interval, settings.remote_startup_timeout)
            state.live = LiveIndex(settings.index_dir, model, settings.search_settings(), stored)
            LiveIndex.warm(state.live.searcher)
        except BeaconError as e:
            # One clear line instead of a traceback wall; uvicorn then exits with its startup-failure code.
            log.error("cannot start: %s", e)
            raise SystemExit(1) from None
        state.readiness.warmed = True
        state.readiness.drain_on_sigterm(settings.drain_s)
        state.search = CachedSearch(state.live, settings.query_cache, SearchSlots(settings.max_concurrent_searches))
        state.rebuilder = admin.Rebuilder(settings, state.live)
        poller = IndexPoller(state.live, settings.reload_interval).start()
        remote_poller = (
            RemotePoller(mirror, state.live, state.remote, settings.remote_poll_interval).start() if mirror else None
        )
        yield
        poller.stop()
        if remote_poller:
            remote_poller.stop()

    configure_logging(settings.log_format)
    app = FastAPI(
        title="Beacon",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        description="Semantic-search question answering over curated content, with cited passages.",
    )
    # No trailing-slash redirects: Starlette builds their Location from the Host header (cache poisoning).
    app.router.redirect_slashes = False
    catalogs = i18n.load_catalogs()
    metrics = Metrics()
    feedback_failures = feedback.failure_counter(metrics.registry)
    # One store for the gap log, the questions asked, the votes and the filters used (querylog.py).
    # Opened here, not in the lifespan: an unwritable path stops the factory with one BeaconError line.
    curator_log = (
        CuratorLog(
            settings.query_log_path,
            settings.query_log_retention_days,
            settings.query_log_max_rows,
            on_failure=lambda table: (metrics.gap_log_failures.inc if table == "gaps" else feedback_failures)(),
        )
        if settings.query_log_path
        else None
    )
    state = AppState(
        settings=settings,
        templates=_templates(catalogs),
        catalogs=catalogs,
        metrics=metrics,
        readiness=Readiness(),
        query_log=curator_log,
        feedback=curator_log,
    )
    app.state.beacon = state

    def _error_page(status: int, message: str) -> str:
        # No request here (a rejection before routing, or a crash): the neutral site words, in English.
        return state.templates.get_template("error.html").render(
            status=status, message=message, html_lang="en", lang="en", site=NEUTRAL, copy=NEUTRAL["copy"]
        )

    def _render_error(scope, status: int, message: str) -> tuple[bytes, bytes]:
        if scope["path"].startswith("/api/"):
            return b"application/json", error_body(message)
        return b"text/html; charset=utf-8", _error_page(status, message).encode()

    app.include_router(api.router)
    app.include_router(feedback.router)
    app.include_router(pages.router)
    app.include_router(widget.router)
    if settings.admin_token is not None:
        admin.install(app)
        dashboard.install(app)  # the curators' /admin page, behind the same token
    app.add_route("/metrics", metrics_endpoint, include_in_schema=False)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    add_offline_docs(app)
    # Outermost last. Unhandled errors become Beacon's error inside every header-adding layer; CORS
    # sits outside the abuse guard so a 429 or 503 still reaches the widget readably; a wrong Host is
    # refused before anything runs, with the security headers; timing covers them all.
    app.add_middleware(BodyLimit, render=_render_error)  # innermost: it stops the route's own read
    app.add_middleware(HeadAsGet)
    app.add_middleware(ErrorShield, render=_render_error, log=log)
    app.add_middleware(
        AbuseGuard,
        rate_limit_per_minute=settings.rate_limit_per_minute,
        rate_limit_burst=settings.rate_limit_burst,
        trusted_proxies=settings.trusted_proxies,
        request_timeout_s=settings.request_timeout_s,
        max_header_bytes=settings.max_header_bytes,
        error_page=_error_page,
    )
    app.add_middleware(OriginCheck, origins=settings.cors_origins, public_url=settings.public_url, render=_render_error)
    app.add_middleware(SearchCORS, origins=settings.cors_origins)
    app.add_middleware(HostCheck, allowed_hosts=settings.trusted_hosts())
    app.add_middleware(SecurityHeaders, frame_ancestors=settings.frame_ancestors)
    app.add_middleware(ForwardedProto, trusted_proxies=settings.trusted_proxies)
    app.add_middleware(RequestObserver, metrics=state.metrics, log=logging.getLogger("beacon.access"))

    @app.exception_handler(SearchBusy)
    async def search_busy(request: Request, exc: SearchBusy):
        response = _error(request, 503, str(exc), "try again in a moment")
        response.headers["Retry-After"] = "1"
        return response

    @app.exception_handler(StarletteHTTPException)
    async def not_found_page(request: Request, exc: StarletteHTTPException):
        # A mistyped address in a browser gets the site's 404 page in the reader's language, not bare JSON.
        if exc.status_code == 404 and not _is_api(request) and request.method in ("GET", "HEAD"):
            message = i18n.translate(
                state.catalogs, i18n.page_language(request), i18n.N_("There is no page at this address.")
            )
            return _error(request, 404, message)
        if not _is_api(request):
            return await http_exception_handler(request, exc)
        response = _error(request, exc.status_code, str(exc.detail))
        response.headers.update(exc.headers or {})
        return response

    @app.exception_handler(BeaconError)
    async def beacon_error(request: Request, exc: BeaconError):
        # Each error knows its status: a bad question 422, a missing or damaged index 503, a build running 409.
        return _error(request, exc.status, exc.message, exc.hint)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        reasons = "; ".join(f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}" for e in exc.errors())
        hint = "the parameters each route takes are listed at /docs" if _is_api(request) else None
        return _error(request, 422, reasons or "invalid request", hint)

    def _error(request: Request, status: int, message: str, hint: str | None = None):
        if _is_api(request):
            return Response(error_body(message, hint), status_code=status, media_type="application/json")
        shown = f"{message} ({hint})" if hint else message
        return state.templates.TemplateResponse(
            request, "error.html", {"status": status, "message": shown}, status_code=status
        )

    return app


def create_app_from_env() -> FastAPI:
    """Entry point for uvicorn workers (an import string is needed for --workers > 1)."""
    settings = settings_from_workers_env(os.environ)
    configure_logging(settings.log_format)
    configure_connections(settings.header_timeout_s)  # this worker's request-head deadline
    try:
        if settings.index_url:  # a replica's first download; each worker's lifespan then finds it done
            first_sync(
                remote_mirror(settings),
                RemoteStatus(settings.index_url),
                settings.remote_poll_interval,
                settings.remote_startup_timeout,
            )
        # Loaded (and hash-checked) here, before uvicorn runs the lifespan: a failure there comes with a
        # traceback. The lifespan serves this same load.
        stored = load_version(current_dir(settings.index_dir))
        return create_app(settings, stored=stored)  # refuses an unwritable gap log
    except BeaconError as e:
        log.error("cannot start: %s", e)
        sys.exit(1)
