"""Security headers on every response, a strict CSP for pages, and an offline /docs page that fits it."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

DOCS_ASSETS = "/docs-assets"


def page_csp(frame_ancestors: str) -> str:
    """No inline script anywhere; everything from our own origin. frame-ancestors is the one loosenable part."""
    return ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
            f"frame-ancestors {frame_ancestors}")


# Swagger UI styles some of its widgets with <style> elements; it still runs no inline script.
DOCS_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
            "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


class SecurityHeaders:
    """Pure ASGI middleware (no BaseHTTPMiddleware: it costs a task and a queue per request).

    Adds the same fixed headers to every response; HTML gets the page CSP and no-referrer, so a
    patient's question in the URL never reaches a site they follow a link to."""

    def __init__(self, app, frame_ancestors: str = "'self'"):
        self.app = app
        common = [(b"x-content-type-options", b"nosniff"),
                  (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=(), usb=()"),
                  (b"cross-origin-opener-policy", b"same-origin")]
        self.page = common + [(b"content-security-policy", page_csp(frame_ancestors).encode()),
                              (b"referrer-policy", b"no-referrer")]
        self.docs = common + [(b"content-security-policy", DOCS_CSP.encode()), (b"referrer-policy", b"no-referrer")]
        self.other = common + [(b"referrer-policy", b"strict-origin-when-cross-origin"),
                               (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'")]

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        is_docs = scope["path"] == "/docs"

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                html = any(k == b"content-type" and v.startswith(b"text/html") for k, v in headers)
                headers.extend(self.docs if is_docs else self.page if html else self.other)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


DOCS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Beacon API</title>
<link rel="stylesheet" href="{assets}/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="/static/docs-init.js"></script>
</body></html>"""


def add_offline_docs(app: FastAPI) -> None:
    """/docs served from the swagger-ui-bundle package: no CDN (Beacon runs offline) and no inline script.

    Without that package installed there is no /docs; /openapi.json is always there."""
    try:
        from swagger_ui_bundle import swagger_ui_path
    except ImportError:
        return
    app.mount(DOCS_ASSETS, StaticFiles(directory=str(Path(swagger_ui_path))), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(DOCS_PAGE.format(assets=DOCS_ASSETS))
