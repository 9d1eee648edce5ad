"""The embeddable search widget: /widget.js for other sites, and /widget/demo showing it at work."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response

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


@router.get("/widget.js", include_in_schema=False)
def widget_js(request: Request) -> Response:
    path = STATIC / "widget.js"
    response = FileResponse(
        path, media_type="application/javascript; charset=utf-8", headers=WIDGET_HEADERS, stat_result=path.stat()
    )
    # FileResponse sets an ETag but, unlike StaticFiles, does not answer If-None-Match itself.
    if request.headers.get("if-none-match") == response.headers["etag"]:
        return Response(status_code=304, headers={"ETag": response.headers["etag"], **WIDGET_HEADERS})
    return response


@router.get("/widget/demo", include_in_schema=False)
def widget_demo() -> FileResponse:
    return FileResponse(STATIC / "widget-demo.html", media_type="text/html; charset=utf-8")
