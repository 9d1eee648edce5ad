"""The embeddable search widget: /widget.js for other sites, and /widget/demo showing it at work."""

from __future__ import annotations

import functools
import hashlib
import json
import re
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response

from .state import State

router = APIRouter()

STATIC = Path(__file__).parent / "static"

# An hour keeps host pages fast while a new release still reaches them the same day; the ETag that
# FileResponse sets makes the revalidation after that a cheap 304.
WIDGET_HEADERS = {
    "Cache-Control": "public, max-age=3600",
    # Other sites load this file with <script src>; say so explicitly, whatever site-wide policy is added.
    "Cross-Origin-Resource-Policy": "cross-origin",
    "X-Content-Type-Options": "nosniff",
}


LIMITS_LINE = re.compile(r"^  var LIMITS = \{.*\};$", re.M)


@functools.cache
def widget_source(max_query_chars: int, default_k: int, max_k: int) -> tuple[bytes, str]:
    """widget.js with the service's limits written in (one source for them: the settings), and its ETag."""
    limits = json.dumps({"maxQueryChars": max_query_chars, "defaultK": default_k, "maxK": max_k})
    text, found = LIMITS_LINE.subn(f"  var LIMITS = {limits};", (STATIC / "widget.js").read_text(encoding="utf-8"))
    assert found == 1, "widget.js must define its LIMITS on one line"
    body = text.encode()
    return body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


@router.get("/widget.js", include_in_schema=False)
def widget_js(request: Request, state: State) -> Response:
    settings = state.settings
    body, etag = widget_source(settings.max_query_chars, settings.default_k, settings.max_k)
    headers = {"ETag": etag, **WIDGET_HEADERS}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/javascript; charset=utf-8", headers=headers)


@router.get("/widget/demo", include_in_schema=False)
def widget_demo() -> FileResponse:
    return FileResponse(STATIC / "widget-demo.html", media_type="text/html; charset=utf-8")
