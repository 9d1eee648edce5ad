"""Admin routes to reload or rebuild the index; they exist only when BEACON_ADMIN_TOKEN is set.

Never exposed to browsers' cross-origin requests: CORS applies to /api/search only, and the
token is a bearer header, never a cookie, so a page on another site cannot send it."""

from __future__ import annotations

import hmac
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response

from index import Embedder, build_index, current_version
from index.store import read_live_manifest
from ingest.errors import BeaconError

from .limits import TokenBucket, client_ip
from .live import LiveIndex
from .query import QueryError
from .schemas import error_body
from .settings import Settings
from .sites import ServedSite, named_sites, settings_of
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
    """Runs rebuilds in background threads and remembers how each site's last one ended: one at a time per
    site (a second is refused), while another site may rebuild meanwhile (docs/sites.md says why)."""

    def __init__(self, embedder: Embedder, keep: int):
        self.embedder, self.keep = embedder, keep
        self._states: dict[str | None, RebuildState] = {}  # by site key; None on a one-site server
        self._locks: dict[str | None, threading.Lock] = {}
        self._guard = threading.Lock()

    def state(self, key: str | None = None) -> RebuildState:
        return self._states.get(key) or RebuildState()

    def start(self, settings: Settings, refresh: Callable[[], object], key: str | None = None) -> bool:
        """Build `settings`' corpus into its index, then `refresh()` to swap it in; False when this site is
        already rebuilding in this worker."""
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        if not lock.acquire(blocking=False):
            return False
        self._states[key] = state = RebuildState(running=True, started_at=time.time())
        threading.Thread(
            target=self._run, args=(settings, refresh, state, lock), name=f"beacon-rebuild-{key or ''}", daemon=True
        ).start()
        return True

    def _run(self, settings: Settings, refresh: Callable[[], object], state: RebuildState, lock) -> None:
        try:
            report = build_index(
                settings.corpus_dir, settings.index_dir, self.embedder, keep=self.keep, site=settings.site()
            )
            state.report, state.version = asdict(report), report.version
            refresh()
            log.info(
                "admin rebuild of %s finished: %s", settings.index_dir, report.version or "index already up to date"
            )
        except BeaconError as e:  # a broken corpus file, another build running...: the live index stays
            state.error = str(e)
            log.error("admin rebuild of %s failed, the live index is unchanged: %s", settings.index_dir, e)
        except Exception as e:
            state.error = f"unexpected error: {e}"
            log.exception("admin rebuild of %s crashed, the live index is unchanged", settings.index_dir)
        finally:
            state.running, state.finished_at = False, time.time()
            lock.release()


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


@dataclass(frozen=True)
class Target:
    """The site an admin request acts on: `?site=NAME` (or NAME@VERSION) on a server with a server file, else
    its first site; the one index of a one-site server."""

    key: str | None  # None on a one-site server: its answers keep their shape, without "site"
    settings: Settings  # its corpus, index and site file, as `beacon build --sites FILE --only NAME` uses
    site: ServedSite | None  # None on a one-site server

    def live(self, state: AppState) -> LiveIndex | None:
        """Its live index, None for a site not loaded (BEACON_MAX_LOADED_SITES): asking never loads one."""
        if self.site is None:
            return state.live
        return self.site.parts[0] if self.site.parts is not None else None

    def refresh(self, state: AppState) -> bool:
        return state.live.refresh() if self.site is None else self.site.refresh()

    def body(self, **fields) -> dict:
        return fields if self.key is None else {"site": self.key, **fields}


def target(state: AppState, site: str | None) -> Target:
    """A 422 for a site this server does not have (naming at most ten it has), or for several at once."""
    if state.sites is None:
        if site:
            raise QueryError("this server serves one site", "leave site out")
        return Target(None, state.settings, None)
    chosen = named_sites(site, state.sites) if site else [next(s for s in state.sites.values() if s.pinned)]
    if len(chosen) != 1:
        raise QueryError("the admin routes act on one site at a time", "send site=NAME once per site")
    return Target(chosen[0].key, settings_of(state.settings, chosen[0].entry), chosen[0])


class SiteRefused(Exception):
    """A `?site=` the admin routes cannot act on: answered in JSON here, as every admin answer is (the app's
    BeaconError handler renders an HTML page outside /api/)."""

    def __init__(self, error: QueryError):
        self.error = error


async def chosen_site(
    state: State,
    site: Annotated[str | None, Query(max_length=200)] = None,  # NAME or NAME@VERSION; none: the first site
) -> Target:
    try:
        return target(state, site)
    except QueryError as e:
        raise SiteRefused(e) from e


Chosen = Annotated[Target, Depends(chosen_site)]


@router.post("/reload")
def reload(state: State, chosen: Chosen) -> Response:
    """Swap in the published index now, in the worker that takes this request (the others
    pick it up on their next poll). A site not loaded has nothing to swap: it loads what is published."""
    swapped = chosen.refresh(state)
    live = chosen.live(state)
    if live is None:
        return JSONResponse(
            chosen.body(version=current_version(chosen.settings.index_dir), swapped=False, loaded=False)
        )
    body = chosen.body(version=live.searcher.version, swapped=swapped)
    if chosen.site is not None:
        body["loaded"] = True
    if live.last_error:
        body["error"] = live.last_error
    return JSONResponse(body)


@router.post("/rebuild")
def rebuild(state: State, chosen: Chosen) -> Response:
    if not state.rebuilder.start(chosen.settings, lambda: chosen.refresh(state), chosen.key):
        where = f" of {chosen.key}" if chosen.key else ""
        query = f"?site={chosen.key}" if chosen.key else ""
        return Response(
            error_body(f"a rebuild{where} is already running", f"GET /admin/rebuild{query} for its state"),
            status_code=409,
            media_type="application/json",
        )
    return JSONResponse(chosen.body(status="started"), status_code=202)


@router.get("/status")
def status(state: State, chosen: Chosen) -> Response:
    """The live index's whole manifest, dependency versions included (kept out of the public /healthz); for a
    site not loaded, the manifest of the version it would load."""
    live = chosen.live(state)
    if live is not None:
        body = chosen.body(version=live.searcher.version, index=asdict(live.searcher.stored.manifest))
        return JSONResponse(body | ({"loaded": True} if chosen.site is not None else {}))
    try:
        manifest = asdict(read_live_manifest(chosen.settings.index_dir))
    except BeaconError as e:
        return JSONResponse(chosen.body(version=None, loaded=False, index=None, error=e.message))
    return JSONResponse(chosen.body(version=manifest["version"], loaded=False, index=manifest))


@router.get("/rebuild")
def rebuild_state(state: State, chosen: Chosen) -> Response:
    return JSONResponse(chosen.body(**asdict(state.rebuilder.state(chosen.key))))


def install(app) -> None:
    """Add the admin routes to an app; called by the app factory only when a token is set."""
    app.include_router(router)
    app.state.beacon.admin_failures = TokenBucket(FAILED_ATTEMPTS_PER_MINUTE, FAILED_ATTEMPTS_BURST)

    @app.exception_handler(AdminAuthError)
    async def admin_auth_error(request: Request, exc: AdminAuthError):
        return auth_error_response(exc)

    @app.exception_handler(SiteRefused)
    async def site_refused(request: Request, exc: SiteRefused):
        e = exc.error
        return Response(error_body(e.message, e.hint), status_code=e.status, media_type="application/json")
