"""The curators' dashboard at /admin: the report (report.py) as a page, signed in with the admin token.

Exists only when BEACON_ADMIN_TOKEN is set. The token is typed into a form (POSTed, so never in a URL or
the access log) and checked by admin.check_token, the same check and per-address lockout as the API's
admin routes. A right token gets a session cookie scoped to /admin (Secure, HttpOnly, SameSite=Strict):
its value is an expiry and a random id signed with a key derived from the token, never the token, so
every worker accepts it, nothing is stored server-side, and changing the token ends every session.
Signing out drops the cookie and revokes its id in this worker; a copied cookie ends at its expiry.
Readers never get a cookie: nothing here runs outside /admin."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from .admin import AdminAuthError, check_token
from .i18n import NAMES, normalize
from .report import Report, build_report, csv_tables, to_csv
from .state import AppState, State

COOKIE = "beacon_admin"
SESSION_S = 8 * 3600  # a working day; then sign in again
MAX_FORM_BYTES = 4096  # a token of any sensible length, and the page's language
STATIC = Path(__file__).parent / "static"
# Curators' pages and downloads hold readers' questions: never cached, never indexed.
PRIVATE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}


def _key(state: AppState) -> bytes:
    token = state.settings.admin_token.get_secret_value().encode()
    return hmac.new(token, b"beacon admin session v1", hashlib.sha256).digest()


def _sign(key: bytes, payload: str) -> str:
    return hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()


class Sessions:
    """Signed session values, ids revoked by sign-out in this worker, and the last report built."""

    def __init__(self):
        self.revoked: dict[str, float] = {}  # id → its expiry, forgotten after it
        self._reports: dict[str | None, tuple[tuple, Report]] = {}  # per site shown (None: all); sites are few
        self._lock = threading.Lock()

    def new(self, key: bytes, now: float) -> str:
        payload = f"{int(now + SESSION_S)}.{secrets.token_urlsafe(24)}"
        return f"{payload}.{_sign(key, payload)}"

    def valid(self, key: bytes, value: str | None, now: float) -> bool:
        expires, _, rest = (value or "").partition(".")
        session_id, _, signature = rest.partition(".")
        if not (expires.isdigit() and session_id and signature):
            return False
        if not hmac.compare_digest(signature, _sign(key, f"{expires}.{session_id}")):
            return False
        return int(expires) > now and session_id not in self.revoked

    def revoke(self, value: str, now: float) -> None:
        expires, _, rest = value.partition(".")
        with self._lock:
            self.revoked = {i: e for i, e in self.revoked.items() if e > now}
            if expires.isdigit():
                self.revoked[rest.partition(".")[0]] = float(expires)

    def report(self, state: AppState, site: str | None = None) -> Report | None:
        """The report (of one site, or of all), rebuilt only when the log file or a live index changed, or
        on the hour (grouping embeds every unanswered question: 3.3 s for 500 on two cores, report.py)."""
        settings, path = state.settings, state.settings.query_log_path
        if path is None:
            return None
        stat = path.stat() if path.exists() else None
        searchers = {key: s.live.searcher for key, s in (state.sites or {}).items()}
        searcher = _site_searcher(state, site) if site else state.live.searcher
        versions = (searcher.version, *(s.version for s in searchers.values()))
        key = (stat and (stat.st_mtime_ns, stat.st_size), versions, int(time.time() // 3600))
        with self._lock:
            if site not in self._reports or self._reports[site][0] != key:
                days = settings.query_log_retention_days
                report = build_report(path, days, searcher, retention_days=days, site=site, sites=searchers or None)
                self._reports[site] = (key, report)
            return self._reports[site][1]


def site_choices(state: AppState) -> list[str]:
    """What the dashboard's site menu offers: each site, and each version of a site that has versions."""
    if state.sites is None:
        return []
    return list(dict.fromkeys([s.name for s in state.sites.values()] + list(state.sites)))


def _site_searcher(state: AppState, site: str):
    """The index of the site the report is about (a site's current version for NAME): its passages are
    the nearest ones shown."""
    chosen = state.sites.get(site) or next(s for s in state.sites.values() if s.name == site and s.current)
    return chosen.live.searcher


def sessions_of(request: Request) -> Sessions:
    return request.app.state.dashboard


def signed_in(request: Request, state: AppState) -> bool:
    return sessions_of(request).valid(_key(state), request.cookies.get(COOKIE), time.time())


def _lang(request: Request) -> str | None:
    """The language asked for with ?lang= (the forms post to URLs that keep it), else None."""
    return normalize(request.query_params.get("lang"))


def _page(request: Request, state: AppState, template: str, context: dict, status: int = 200) -> Response:
    # The page's language comes from i18n.page_context (?lang=, else Accept-Language).
    response = state.templates.TemplateResponse(request, template, {**context, "names": NAMES}, status_code=status)
    response.headers.update(PRIVATE)
    response.headers.append("Vary", "Accept-Language")
    return response


def _sign_in_page(request: Request, state: AppState, status: int):
    """The form; after a failed attempt its status (401, 403, 429) picks the message, in the page's language."""
    response = _page(request, state, "admin_sign_in.html", {"failure": status if status != 200 else None}, status)
    if status == 429:
        response.headers["Retry-After"] = "60"
    return response


router = APIRouter(prefix="/admin", include_in_schema=False)


def _site_asked(request: Request, state: AppState) -> tuple[str | None, Response | None]:
    """The dashboard's ?site= (one site's figures, docs/dashboard.md), or the error page for one this server
    does not have."""
    site = request.query_params.get("site") or None
    if site is None or site in site_choices(state):
        return site, None
    known = ", ".join(site_choices(state)[:10]) or "none: this server serves one site"
    message = f"no site {site[:64]!r} here (sites: {known})"
    return None, _page(request, state, "error.html", {"status": 422, "message": message}, 422)


@router.get("")
def dashboard(request: Request, state: State) -> Response:
    if not signed_in(request, state):
        return _sign_in_page(request, state, 200)
    site, refused = _site_asked(request, state)
    if refused is not None:
        return refused
    report = sessions_of(request).report(state, site)
    tables = csv_tables(report) if report else {}
    context = {"report": report, "tables": list(tables), "signed_in": True, "site_choices": site_choices(state)}
    return _page(request, state, "admin.html", {**context, "site_shown": site or ""})


@router.post("/sign-in")
async def sign_in(request: Request, state: State) -> Response:
    form = parse_qs((await _bounded_body(request)).decode("utf-8", "replace"))
    lang = _lang(request)
    try:
        check_token(request, state, (form.get("token") or [""])[0], "type the admin token (BEACON_ADMIN_TOKEN)")
    except AdminAuthError as e:
        return _sign_in_page(request, state, e.status)
    response = RedirectResponse("/admin" + (f"?lang={lang}" if lang else ""), status_code=303)
    response.set_cookie(
        COOKIE,
        sessions_of(request).new(_key(state), time.time()),
        max_age=SESSION_S,
        path="/admin",
        secure=True,
        httponly=True,
        samesite="strict",
    )
    response.headers.update(PRIVATE)
    return response


@router.post("/sign-out")
def sign_out(request: Request) -> Response:
    value = request.cookies.get(COOKIE)
    if value:
        sessions_of(request).revoke(value, time.time())
    lang = _lang(request)
    response = RedirectResponse("/admin" + (f"?lang={lang}" if lang else ""), status_code=303)
    response.delete_cookie(COOKIE, path="/admin", secure=True, httponly=True, samesite="strict")
    response.headers.update(PRIVATE)
    return response


@router.get("/csv/{name}.csv")
def download(name: str, request: Request, state: State) -> Response:
    if not signed_in(request, state):
        return _sign_in_page(request, state, 401)
    site, refused = _site_asked(request, state)
    if refused is not None:
        return refused
    report = sessions_of(request).report(state, site)
    tables = csv_tables(report) if report else {}
    if name not in tables:
        return _page(request, state, "error.html", {"status": 404, "message": f"no table {name!r}"}, 404)
    header, rows = tables[name]
    # A byte-order mark, so spreadsheet programs read the questions' Chinese as UTF-8.
    body = "\ufeff" + to_csv(header, rows)
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={
            **PRIVATE,
            "Content-Disposition": f'attachment; filename="beacon-{name}{"-" + site if site else ""}.csv"',
        },
    )


async def _bounded_body(request: Request) -> bytes:
    """The form's body, refused past MAX_FORM_BYTES from Content-Length and while it streams."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_FORM_BYTES:
        raise AdminFormTooLarge()
    body = b""
    async for part in request.stream():
        body += part
        if len(body) > MAX_FORM_BYTES:
            raise AdminFormTooLarge()
    return body


class AdminFormTooLarge(Exception):
    pass


def install(app) -> None:
    """Add the dashboard to an app; called by the app factory with the admin routes (a token is set)."""
    app.include_router(router)
    app.state.dashboard = Sessions()

    @app.exception_handler(AdminFormTooLarge)
    async def too_large(request: Request, exc: AdminFormTooLarge):
        return Response(f"the form is larger than {MAX_FORM_BYTES} bytes", status_code=413, headers=PRIVATE)
