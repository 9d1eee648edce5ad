"""Security headers on every response, a strict CSP for pages, an offline /docs page that fits it, and
cross-origin access for the widget (GET /api/search and POST /api/feedback only, never with credentials)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from .limits import reply_rendered

DOCS_ASSETS = "/docs-assets"


def page_csp(frame_ancestors: str) -> str:
    """No inline script anywhere; everything from our own origin. frame-ancestors is the one loosenable part."""
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
        f"frame-ancestors {frame_ancestors}"
    )


# Swagger UI styles some of its widgets with <style> elements; it still runs no inline script.
DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


class SecurityHeaders:
    """Pure ASGI middleware (no BaseHTTPMiddleware: it costs a task and a queue per request).

    Adds the same fixed headers to every response; HTML gets the page CSP and no-referrer, so a
    patient's question in the URL never reaches a site they follow a link to."""

    def __init__(self, app, frame_ancestors: str = "'self'"):
        self.app = app
        common = [
            (b"x-content-type-options", b"nosniff"),
            (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=(), usb=()"),
            (b"cross-origin-opener-policy", b"same-origin"),
        ]
        self.page = common + [
            (b"content-security-policy", page_csp(frame_ancestors).encode()),
            (b"referrer-policy", b"no-referrer"),
        ]
        self.docs = common + [(b"content-security-policy", DOCS_CSP.encode()), (b"referrer-policy", b"no-referrer")]
        self.other = common + [
            (b"referrer-policy", b"strict-origin-when-cross-origin"),
            (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
        ]

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


class ForwardedProto:
    """Believe X-Forwarded-Proto only from a trusted proxy (the `trusted_proxies` setting, CIDRs allowed).

    Beacon builds its page and API links from BEACON_PUBLIC_URL or as relative paths, never from the
    request, so this only keeps `request.url` (and anything a library derives from it) true to what
    the reader's browser sees behind a TLS-terminating proxy. X-Forwarded-Host is never read: the
    proxy passes the reader's Host on (nginx `proxy_set_header Host $host`) and allowed_hosts checks it."""

    def __init__(self, app, trusted_proxies: list[str]):
        from .limits import hop_address, proxy_networks

        self.app = app
        self.networks = proxy_networks(trusted_proxies)
        self._address = hop_address

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and self.networks:
            peer = self._address((scope.get("client") or ("", 0))[0])
            if peer is not None and any(peer in n for n in self.networks):
                for name, value in scope["headers"]:
                    if name == b"x-forwarded-proto":
                        proto = value.decode("latin-1").split(",")[-1].strip().lower()
                        if proto in ("http", "https"):
                            scope["scheme"] = proto  # in place: outer middlewares read the route from it
        await self.app(scope, receive, send)


class HeadAsGet:
    """HEAD on every GET route (FastAPI routes only GET): run the GET and send its headers without the body."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "HEAD":
            return await self.app(scope, receive, send)

        async def headers_only(message):
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        # The same dict is updated, not copied: the middlewares outside still see the request (and route).
        scope["method"] = "GET"
        try:
            await self.app(scope, receive, headers_only)
        finally:
            scope["method"] = "HEAD"


class ErrorShield:
    """Turns an unhandled exception into Beacon's own error (JSON for /api/, the error page otherwise).

    It sits inside SecurityHeaders and CORS, so a 500 carries the same headers as any answer; Starlette's
    own last-resort handler sits outside every middleware and answers plain text without them.
    The traceback goes to the log, never to the reader."""

    def __init__(self, app, render, log):
        self.app = app
        self.render = render  # (scope, status, message) → (content type, body bytes)
        self.log = log

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = False

        async def watching_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watching_send)
        except Exception:
            self.log.exception("unhandled error answering %s %s", scope["method"], scope["path"])
            if started:
                raise  # half an answer is out: only closing the connection is honest now
            content_type, body = self.render(scope, 500, "Something went wrong on our side; please try again.")
            await send(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode())],
                }
            )
            await send({"type": "http.response.body", "body": body})


class HostCheck:
    """Starlette's TrustedHostMiddleware for GET and HEAD, the requests whose answers a cache keeps and
    whose pages carry links. Every other method is refused by the router (405) or needs the admin
    token, and its answer holds nothing taken from Host, so the router's reason reaches the client.
    Health checks are not checked either: load balancers and Kubernetes probes name the replica by its
    own address (or send no Host at all), and /healthz, /readyz and /metrics hold nothing from Host."""

    UNCHECKED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})

    def __init__(self, app, allowed_hosts: list[str]):
        from starlette.middleware.trustedhost import TrustedHostMiddleware

        self.app = app
        self.checked = TrustedHostMiddleware(app, allowed_hosts=allowed_hosts, www_redirect=False)

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD") and scope["path"] not in self.UNCHECKED_PATHS:
            return await self.checked(scope, receive, send)
        await self.app(scope, receive, send)


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


class OriginCheck:
    """Refuses a request that changes something (any method but GET, HEAD, OPTIONS) sent by a page of
    another site: its Origin is neither this service's own (the Host it was sent to, or public_url) nor
    one of cors_origins. CORS only hides the answer from such a page; the vote was stored all the same
    (issue 21, L4). No Origin (a script, curl, the CLI) is no browser page and goes on; cors_origins "*"
    (the default) lets any site's widget vote. A browser without fetch metadata (Sec-Fetch-Site: Chrome
    76, Firefox 90, Safari 16.4 and later) posting the page's own form sends `Origin: null`, and is
    refused when cors_origins is a list."""

    SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

    def __init__(self, app, origins: list[str], public_url: str | None, render):
        self.app = app
        self.any_origin = "*" in origins
        self.allowed = {o.lower().rstrip("/") for o in origins if o != "*"}
        if public_url:
            parts = urlsplit(public_url)
            self.allowed.add(f"{parts.scheme}://{parts.netloc}".lower())
        self.render = render

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] in self.SAFE_METHODS or self.any_origin:
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        origin = headers.get(b"origin")
        # The page's own form sends `Origin: null`: its Referrer-Policy is no-referrer, and browsers then
        # hide the origin of a POST. Fetch metadata, which pages cannot set, still says same-origin.
        if headers.get(b"sec-fetch-site") in (b"same-origin", b"none"):
            return await self.app(scope, receive, send)
        if origin is None or self._accepted(origin.decode("latin-1").strip().lower(), headers.get(b"host", b"")):
            return await self.app(scope, receive, send)
        message = (
            f"{scope['method']} requests from pages of {origin.decode('latin-1')!r} are not accepted here; "
            "only this site's own pages and the origins in BEACON_CORS_ORIGINS may send them"
        )
        await reply_rendered(send, self.render, scope, 403, message)

    def _accepted(self, origin: str, host: bytes) -> bool:
        if origin in self.allowed:
            return True
        # The service's own pages: the browser sent the request to the host it names in Origin.
        try:
            parts = urlsplit(origin)
        except ValueError:  # `http://[::1` and the like: no origin a browser sends
            return False
        return (
            parts.scheme in ("http", "https") and parts.netloc != "" and parts.netloc == host.decode("latin-1").lower()
        )
