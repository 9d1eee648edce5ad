"""Admin routes to reload or rebuild the index; they exist only when BEACON_ADMIN_TOKEN is set.

Never exposed to browsers' cross-origin requests: CORS applies to /api/search only, and the
token is a bearer header, never a cookie, so a page on another site cannot send it."""

from __future__ import annotations

import hmac
import logging
import threading
import time
from dataclasses import asdict, dataclass

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from index import build_index
from ingest.errors import BeaconError

from .limits import TokenBucket, client_ip
from .live import LiveIndex
from .schemas import error_body
from .settings import Settings
from .state import AppState, State

log = logging.getLogger("beacon.admin")


@dataclass
class RebuildState:
    running: bool = False
    started_at: float | None = None
    finished_at: float | None = None
    version: str | None = None  # what the last rebuild published (None: up to date, or failed)
    report: dict | None = None
    error: str | None = None


class Rebuilder:
    """Runs one rebuild at a time in a background thread and remembers how the last one ended."""

    def __init__(self, settings: Settings, live: LiveIndex):
        self.settings = settings
        self.live = live
        self.state = RebuildState()
        self._lock = threading.Lock()

    def start(self) -> bool:
        """False when a rebuild is already running in this worker."""
        if not self._lock.acquire(blocking=False):
            return False
        self.state = RebuildState(running=True, started_at=time.time())
        threading.Thread(target=self._run, name="beacon-rebuild", daemon=True).start()
        return True

    def _run(self) -> None:
        try:
            report = build_index(
                self.settings.corpus_dir,
                self.settings.index_dir,
                self.live.embedder,
                keep=self.settings.keep_versions,
                site=self.settings.site(),
            )
            self.state.report, self.state.version = asdict(report), report.version
            self.live.refresh()
            log.info("admin rebuild finished: %s", report.version or "index already up to date")
        except BeaconError as e:  # a broken corpus file, another build running...: the live index stays
            self.state.error = str(e)
            log.error("admin rebuild failed, the live index is unchanged: %s", e)
        except Exception as e:
            self.state.error = f"unexpected error: {e}"
            log.exception("admin rebuild crashed, the live index is unchanged")
        finally:
            self.state.running, self.state.finished_at = False, time.time()
            self._lock.release()


# Failed attempts per client: 10 at once (room for an operator's typos), then one every 6 s; guessing a
# 32-character token stays hopeless and a script hammering the endpoint gets 429s instead of answers.
FAILED_ATTEMPTS_PER_MINUTE = 10
FAILED_ATTEMPTS_BURST = 10


def require_token(request: Request, state: State) -> None:
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    check_token(
        request, state, given if scheme.lower() == "bearer" else "", "send 'Authorization: Bearer <BEACON_ADMIN_TOKEN>'"
    )


def check_token(request: Request, state: AppState, given: str, missing: str) -> None:
    """The one admin-token check, for the bearer header and the dashboard's sign-in form alike: a client
    past its failed attempts gets 429, no token 401 (`missing` says how to send one), a wrong one 403."""
    settings, failures = state.settings, state.admin_failures
    client = client_ip(request.scope, settings.trusted_proxies)
    if failures.blocked(client, time.monotonic()):
        raise AdminAuthError(429, "too many failed admin attempts from your address; wait a minute")
    if not given:
        failures.take(client, time.monotonic())
        raise AdminAuthError(401, missing)
    expected = settings.admin_token.get_secret_value().encode()
    if not hmac.compare_digest(given.strip().encode(), expected):
        failures.take(client, time.monotonic())
        raise AdminAuthError(403, "wrong admin token")


class AdminAuthError(Exception):
    def __init__(self, status: int, detail: str):
        self.status, self.detail = status, detail


def auth_error_response(exc: AdminAuthError) -> JSONResponse:
    headers = (
        {"WWW-Authenticate": "Bearer"} if exc.status == 401 else {"Retry-After": "60"} if exc.status == 429 else {}
    )
    return Response(error_body(exc.detail), status_code=exc.status, headers=headers, media_type="application/json")


router = APIRouter(prefix="/admin", dependencies=[Depends(require_token)], include_in_schema=False)


@router.post("/reload")
def reload(state: State) -> JSONResponse:
    """Swap in the published index now, in the worker that takes this request (the others
    pick it up on their next poll)."""
    live = state.live
    swapped = live.refresh()
    body = {"version": live.searcher.version, "swapped": swapped}
    if live.last_error:
        body["error"] = live.last_error
    return JSONResponse(body)


@router.post("/rebuild")
def rebuild(state: State) -> JSONResponse:
    rebuilder = state.rebuilder
    if not rebuilder.start():
        return Response(
            error_body("a rebuild is already running", "GET /admin/rebuild for its state"),
            status_code=409,
            media_type="application/json",
        )
    return JSONResponse({"status": "started"}, status_code=202)


@router.get("/status")
def status(state: State) -> JSONResponse:
    """The live index's whole manifest, dependency versions included (kept out of the public /healthz)."""
    live = state.live
    return JSONResponse({"version": live.searcher.version, "index": asdict(live.searcher.stored.manifest)})


@router.get("/rebuild")
def rebuild_state(state: State) -> JSONResponse:
    return JSONResponse(asdict(state.rebuilder.state))


def install(app) -> None:
    """Add the admin routes to an app; called by the app factory only when a token is set."""
    app.include_router(router)
    app.state.beacon.admin_failures = TokenBucket(FAILED_ATTEMPTS_PER_MINUTE, FAILED_ATTEMPTS_BURST)

    @app.exception_handler(AdminAuthError)
    async def admin_auth_error(request: Request, exc: AdminAuthError):
        return auth_error_response(exc)
