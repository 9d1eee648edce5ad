"""Everything the app factory makes for the routes, in one typed object (`app.state.beacon`).

Routes take it as a parameter annotated `State`; code that has only the request (middleware helpers, template
context processors) calls `state_of(request)`. The parts made in the lifespan (the live index and what
needs it) are None until start-up has finished.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request

if TYPE_CHECKING:  # for the annotations only: most of these modules import this one
    from fastapi.templating import Jinja2Templates

    from .admin import Rebuilder
    from .limits import TokenBucket
    from .live import CachedSearch, LiveIndex, RemoteStatus
    from .metrics import Metrics
    from .querylog import CuratorLog
    from .readiness import Readiness
    from .settings import Settings
    from .sites import ServedSite


@dataclass
class AppState:
    settings: Settings
    templates: Jinja2Templates
    catalogs: dict  # language -> gettext translations (i18n.load_catalogs)
    metrics: Metrics
    readiness: Readiness
    curator_log: CuratorLog | None = None  # the opt-in gap log, questions asked, votes and filters (querylog.py)
    live: LiveIndex | None = None  # from the lifespan on
    search: CachedSearch | None = None
    rebuilder: Rebuilder | None = None  # only with an admin token
    remote: RemoteStatus | None = None  # only for a replica (BEACON_INDEX_URL)
    admin_failures: TokenBucket | None = None  # failed admin attempts per client
    # With a server file (BEACON_SITES_FILE), every site by name; `live` and `search` are then its first
    # site's, which the admin routes and a request that names no site on a one-site view use.
    sites: dict[str, ServedSite] | None = None


def state_of(request: Request) -> AppState:
    return request.app.state.beacon


async def get_state(request: Request) -> AppState:
    """The FastAPI dependency. A coroutine: FastAPI runs a plain function dependency in its thread pool,
    and that hop cost ~0.15 ms of every search on a 2-core box (bench/http_stack.py)."""
    return request.app.state.beacon


# What a route writes to get the state: `def route(state: State)`.
State = Annotated[AppState, Depends(get_state)]
