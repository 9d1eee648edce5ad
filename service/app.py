"""The app factory: wires settings, the model and the live index into a FastAPI application."""

from __future__ import annotations

import logging
import os
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from index import Embedder
from ingest.errors import BeaconError

from . import admin, api, pages, widget
from .cached_search import CachedSearch
from .cors import SearchCORS
from .highlight import highlight, highlight_answer
from .live import LiveIndex
from .query import QueryError
from .reload import IndexPoller
from .settings import Settings

HERE = Path(__file__).parent


def _templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(HERE / "templates"))  # autoescape is on for .html
    templates.env.filters["highlight"] = highlight
    templates.env.filters["highlight_answer"] = highlight_answer
    return templates


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def create_app(settings: Settings, embedder: Embedder | None = None) -> FastAPI:
    """Build the service. The model and index load once, at startup, and are shared by all requests."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        model = embedder or Embedder(settings.model, backend=settings.encoder, threads=settings.encoder_threads)
        app.state.live = LiveIndex(settings.index_dir, model, settings.search_settings())
        app.state.search = CachedSearch(app.state.live, settings.query_cache)
        app.state.rebuilder = admin.Rebuilder(settings, app.state.live)
        poller = IndexPoller(app.state.live, settings.reload_interval).start()
        yield
        poller.stop()

    app = FastAPI(
        title="Beacon", version="0.1.0", lifespan=lifespan,
        description="Semantic-search question answering over curated content, with cited passages.",
    )
    app.state.settings = settings
    app.state.templates = _templates()
    app.include_router(api.router)
    app.include_router(pages.router)
    app.include_router(widget.router)
    if settings.admin_token is not None:
        admin.install(app)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.add_middleware(SearchCORS, origins=settings.cors_origins)

    @app.exception_handler(QueryError)
    async def query_error(request: Request, exc: QueryError):
        return _error(request, 422, str(exc))

    @app.exception_handler(BeaconError)
    async def beacon_error(request: Request, exc: BeaconError):
        return _error(request, 503, str(exc))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        reasons = "; ".join(f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}" for e in exc.errors())
        return _error(request, 422, reasons or "invalid request")

    def _error(request: Request, status: int, message: str):
        if _is_api(request):
            return JSONResponse({"detail": message}, status_code=status)
        return app.state.templates.TemplateResponse(
            request, "error.html", {"status": status, "message": message}, status_code=status)

    return app


def create_app_from_env() -> FastAPI:
    """Entry point for uvicorn workers (an import string is needed for --workers > 1)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    _log_to_stderr()
    return create_app(Settings())


def _log_to_stderr() -> None:
    """uvicorn configures only its own loggers; index swaps and failed loads must show in the log too."""
    log = logging.getLogger("beacon")
    if not log.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s:     [%(process)d] %(name)s: %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
