"""Every error Beacon answers, rendered one way: JSON under /api/, the site's error page elsewhere.

`ErrorPages` renders for a request (the route handlers below) and for a bare ASGI scope (middleware
that refuses a request before any route runs); `install` registers the exception handlers."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from ingest.errors import BeaconError

from . import i18n
from .limits import SearchBusy
from .query import question_too_long
from .schemas import error_body
from .site import NEUTRAL
from .state import AppState


def is_api(path: str) -> bool:
    return path.startswith("/api/")


class ErrorPages:
    def __init__(self, state: AppState):
        self.state = state

    def page(self, status: int, message: str) -> str:
        """The error page without a request (a rejection before routing, or a crash): the neutral site
        words, in English."""
        return self.state.templates.get_template("error.html").render(
            status=status, message=message, html_lang="en", lang="en", site=NEUTRAL, copy=NEUTRAL["copy"]
        )

    def for_scope(self, scope, status: int, message: str) -> tuple[bytes, bytes]:
        """(content type, body) for middleware, which has a scope and no request."""
        if is_api(scope["path"]):
            return b"application/json", error_body(message)
        return b"text/html; charset=utf-8", self.page(status, message).encode()

    def response(self, request: Request, status: int, message: str, hint: str | None = None) -> Response:
        """For a request: JSON with the hint, or the error page in the reader's language with the site's words."""
        if is_api(request.url.path):
            return Response(error_body(message, hint), status_code=status, media_type="application/json")
        shown = f"{message} ({hint})" if hint else message
        return self.state.templates.TemplateResponse(
            request, "error.html", {"status": status, "message": shown}, status_code=status
        )


def install(app: FastAPI, pages: ErrorPages) -> None:
    """The exception handlers: each error knows its status, and the shape follows the path."""
    state = pages.state

    @app.exception_handler(SearchBusy)
    async def search_busy(request: Request, exc: SearchBusy):
        response = pages.response(request, 503, str(exc), "try again in a moment")
        response.headers["Retry-After"] = "1"
        return response

    @app.exception_handler(StarletteHTTPException)
    async def not_found_page(request: Request, exc: StarletteHTTPException):
        # A mistyped address in a browser gets the site's 404 page in the reader's language, not bare JSON.
        api = is_api(request.url.path)
        if exc.status_code == 404 and not api and request.method in ("GET", "HEAD"):
            message = i18n.translate(
                state.catalogs, i18n.page_language(request), i18n.N_("There is no page at this address.")
            )
            return pages.response(request, 404, message)
        if not api:
            return await http_exception_handler(request, exc)
        response = pages.response(request, exc.status_code, str(exc.detail))
        response.headers.update(exc.headers or {})
        return response

    @app.exception_handler(BeaconError)
    async def beacon_error(request: Request, exc: BeaconError):
        # Each error knows its status: a bad question 422, a missing or damaged index 503, a build running 409.
        return pages.response(request, exc.status, exc.message, exc.hint)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        errors = exc.errors()
        long_questions = [e for e in errors if _question_too_long(e)]
        if long_questions:
            # The same answer as a question over BEACON_MAX_QUERY_CHARS (clean_query): the schema's cap is
            # only the far bound, and a reader should not see two ways of saying "too long".
            length = max(len(e.get("input") or "") for e in long_questions)
            too_long = question_too_long(length, state.settings.max_query_chars)
            return pages.response(request, too_long.status, too_long.message, too_long.hint)
        reasons = "; ".join(f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}" for e in errors)
        hint = "the parameters each route takes are listed at /docs" if is_api(request.url.path) else None
        return pages.response(request, 422, reasons or "invalid request", hint)


def _question_too_long(error: dict) -> bool:
    return error.get("type") == "string_too_long" and tuple(error.get("loc", ())) == ("query", "q")
