"""The app factory: wires settings, the model and the live index into a FastAPI application."""

from __future__ import annotations

import logging
import os
import sys
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from index import Embedder
from index.remote import RemoteMirror, read_signing_key
from index.store import StoredIndex, load_live
from ingest.errors import BeaconError

from . import __version__, admin, api, dashboard, errors, feedback, i18n, middleware, pages, widget
from .connections import configure as configure_connections
from .highlight import highlight, highlight_answer, passage_html
from .limits import SearchSlots
from .live import CachedSearch, IndexPoller, LiveIndex, RemotePoller, RemoteStatus, first_sync
from .logs import configure as configure_logging
from .metrics import Metrics, metrics_endpoint
from .querylog import CuratorLog
from .readiness import Readiness
from .security import add_offline_docs
from .settings import Settings, settings_from_workers_env
from .site import source_url, template_context
from .sites import first_site, remote_url, serve_sites
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


def remote_mirror(settings: Settings, url: str | None = None) -> RemoteMirror:
    """A replica's mirror of BEACON_INDEX_URL (`url`: a site's, else the first site's) into index_dir: its
    download cap, and the key versions must be signed with."""
    key = read_signing_key(settings.signing_key_file) if settings.signing_key_file else None
    return RemoteMirror(
        url or remote_url(settings), settings.index_dir, settings.keep_versions, settings.remote_max_file_bytes, key
    )


def _lifespan(settings: Settings, state: AppState, embedder: Embedder | None, stored: StoredIndex | None):
    """Load the model and the live index once (a replica mirrors object storage first), warm it, start the
    pollers; stop them at shutdown."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        model = embedder or Embedder(settings.model, backend=settings.encoder, threads=settings.encoder_threads)
        mirror = None
        try:
            if settings.index_url:  # a replica: mirror object storage into index_dir (docs/deploy.md)
                mirror = remote_mirror(settings)
                state.remote = RemoteStatus(remote_url(settings))
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
        state.rebuilder = admin.Rebuilder(model, settings.keep_versions)
        poller = IndexPoller(state.live, settings.reload_interval).start()
        if settings.sites_file:
            try:
                state.sites = serve_sites(settings, model, (state.live, state.search), state.metrics)
            except BeaconError as e:
                log.error("cannot start: %s", e)
                poller.stop()
                raise SystemExit(1) from None
        remote_poller = (
            RemotePoller(mirror, state.live, state.remote, settings.remote_poll_interval).start() if mirror else None
        )
        yield
        poller.stop()
        for site in (state.sites or {}).values():
            site.stop()
        if remote_poller:
            remote_poller.stop()

    return lifespan


def _curator_log(settings: Settings, metrics: Metrics) -> CuratorLog | None:
    """One store for the gap log, the questions asked, the votes and the filters used (querylog.py).
    Opened by the factory, not the lifespan: an unwritable path stops it with one BeaconError line."""
    if not settings.query_log_path:
        return None
    feedback_failures = feedback.failure_counter(metrics.registry)
    return CuratorLog(
        settings.query_log_path,
        settings.query_log_retention_days,
        settings.query_log_max_rows,
        on_failure=lambda table: (metrics.gap_log_failures.inc if table == "gaps" else feedback_failures)(),
    )


def create_app(settings: Settings, embedder: Embedder | None = None, stored: StoredIndex | None = None) -> FastAPI:
    """Build the service. The model and index load once, at startup, and are shared by all requests;
    `stored` is the live version when the caller has loaded it already. With a server file, corpus_dir and
    index_dir are its first site's."""
    settings = first_site(settings)
    configure_logging(settings.log_format)
    catalogs = i18n.load_catalogs()
    metrics = Metrics()
    state = AppState(
        settings=settings,
        templates=_templates(catalogs),
        catalogs=catalogs,
        metrics=metrics,
        readiness=Readiness(),
        curator_log=_curator_log(settings, metrics),
    )
    app = FastAPI(
        title="Beacon",
        version=__version__,
        lifespan=_lifespan(settings, state, embedder, stored),
        docs_url=None,
        redoc_url=None,
        description="Semantic-search question answering over curated content, with cited passages.",
    )
    # No trailing-slash redirects: Starlette builds their Location from the Host header (cache poisoning).
    app.router.redirect_slashes = False
    app.state.beacon = state

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
    error_pages = errors.ErrorPages(state)
    middleware.install(app, settings, state, error_pages, log)
    errors.install(app, error_pages)
    return app


def create_app_from_env() -> FastAPI:
    """Entry point for uvicorn workers (an import string is needed for --workers > 1)."""
    settings = settings_from_workers_env(os.environ)
    configure_logging(settings.log_format)
    configure_connections(settings.header_timeout_s)  # this worker's request-head deadline
    try:
        settings = first_site(settings)
        if settings.index_url:  # a replica's first download; each worker's lifespan then finds it done
            first_sync(
                remote_mirror(settings),
                RemoteStatus(remote_url(settings)),
                settings.remote_poll_interval,
                settings.remote_startup_timeout,
            )
        # Loaded (and hash-checked) here, before uvicorn runs the lifespan: a failure there comes with a
        # traceback. The lifespan serves this same load.
        stored = load_live(settings.index_dir)
        return create_app(settings, stored=stored)  # refuses an unwritable gap log
    except BeaconError as e:
        log.error("cannot start: %s", e)
        sys.exit(1)
