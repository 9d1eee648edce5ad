"""The middleware stack, in its one order (Starlette runs the last added outermost)."""

from __future__ import annotations

import logging

from fastapi import FastAPI

from .errors import ErrorPages
from .limits import AbuseGuard, BodyLimit
from .metrics import RequestObserver
from .security import ErrorShield, ForwardedProto, HeadAsGet, HostCheck, OriginCheck, SearchCORS, SecurityHeaders
from .settings import Settings
from .state import AppState


def install(app: FastAPI, settings: Settings, state: AppState, errors: ErrorPages, log: logging.Logger) -> None:
    """Innermost first. Unhandled errors become Beacon's error inside every header-adding layer; CORS
    sits outside the abuse guard so a 429 or 503 still reaches the widget readably; a wrong Host is
    refused before anything runs, with the security headers; timing covers them all."""
    app.add_middleware(BodyLimit, render=errors.for_scope)  # innermost: it stops the route's own read
    app.add_middleware(HeadAsGet)
    app.add_middleware(ErrorShield, render=errors.for_scope, log=log)
    app.add_middleware(
        AbuseGuard,
        rate_limit_per_minute=settings.rate_limit_per_minute,
        rate_limit_burst=settings.rate_limit_burst,
        trusted_proxies=settings.trusted_proxies,
        request_timeout_s=settings.request_timeout_s,
        max_header_bytes=settings.max_header_bytes,
        error_page=errors.page,
    )
    app.add_middleware(
        OriginCheck, origins=settings.cors_origins, public_url=settings.public_url, render=errors.for_scope
    )
    app.add_middleware(SearchCORS, origins=settings.cors_origins)
    app.add_middleware(HostCheck, allowed_hosts=settings.trusted_hosts())
    app.add_middleware(SecurityHeaders, frame_ancestors=settings.frame_ancestors)
    app.add_middleware(ForwardedProto, trusted_proxies=settings.trusted_proxies)
    app.add_middleware(RequestObserver, metrics=state.metrics, log=logging.getLogger("beacon.access"))
