"""Cross-origin access for the search widget: GET /api/search and POST /api/feedback only, never with credentials."""

from __future__ import annotations

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

# Only the public search is readable from other origins; every other route (pages, /healthz, any admin
# route added later) keeps the browser's same-origin protection.
CORS_PATHS = frozenset({"/api/search"})
# The widget's "Did this help?": a form-encoded POST (a CORS simple request, so no preflight is needed).
FEEDBACK_PATH = "/api/feedback"


class SearchCORS:
    """Starlette's CORSMiddleware, applied only to the paths in CORS_PATHS."""

    def __init__(self, app: ASGIApp, origins: list[str]) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app,
            allow_origins=origins,
            allow_methods=["GET"],
            allow_headers=[],
            allow_credentials=False,
            max_age=600,
        )
        self.feedback_cors = CORSMiddleware(
            app,
            allow_origins=origins,
            allow_methods=["POST"],
            allow_headers=[],
            allow_credentials=False,
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] in CORS_PATHS:
            await self.cors(scope, receive, send)
        elif scope["type"] == "http" and scope["path"] == FEEDBACK_PATH:
            await self.feedback_cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)
