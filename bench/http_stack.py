"""What Beacon's web layer adds to a search, in one run: real uvicorn servers on loopback, one
keep-alive connection, the same question asked again and again so the query cache answers it (no
model, no search: what is left is HTTP, the middleware stack, validation and serialisation).

Rows: a bare ASGI app answering a fixed body (uvicorn, loopback and the client: the floor); the
service with and without its middleware stack, each asked /api/search and /api/nothing (a route
added here that returns a fixed small answer through the same stack and dependency). Usage:

    python bench/http_stack.py [--index .beacon/index] [--n 2000]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import ROOT, Server  # noqa: E402

QUESTION = "where can I talk to other patients after radioactive iodine"


def create_app():
    """The service (create_app_from_env) plus /api/nothing; BENCH_STACK=bare drops its middleware."""
    from fastapi import Depends

    from service.app import create_app_from_env
    from service.schemas import ReadyOut
    from service.state import AppState, get_state

    app = create_app_from_env()

    @app.get("/api/nothing", response_model=ReadyOut)
    def nothing(state: AppState = Depends(get_state)) -> ReadyOut:
        return ReadyOut(status="ok", version=None)

    if os.environ.get("BENCH_STACK") == "bare":
        app.user_middleware = []  # built on the first request, so this is the app without the stack
    return app


async def floor_app(scope, receive, send):
    """uvicorn + loopback + the client, and nothing else."""
    if scope["type"] != "http":
        return
    body = b'{"status":"ok"}'
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def measure(index: Path, n: int, baseline: Path | None = None) -> dict[str, float]:
    """p50 per row. All servers run at once and are asked in turn, one request each, so a busy moment
    on a shared box slows every row alike."""
    env = {"BEACON_INDEX_DIR": str(index), "BEACON_RATE_LIMIT_PER_MINUTE": "0", "BEACON_RELOAD_INTERVAL": "0"}
    app_dir = str(ROOT / "bench")
    servers = {
        "floor": Server("http_stack:floor_app", env, app_dir=app_dir),
        "full": Server("http_stack:create_app", env | {"BENCH_STACK": "full"}, app_dir=app_dir),
        "bare": Server("http_stack:create_app", env | {"BENCH_STACK": "bare"}, app_dir=app_dir),
    }
    if baseline:  # the same service from another checkout (e.g. the commit before a change)
        servers["baseline"] = Server("service.app:create_app_from_env", env, app_dir=str(baseline))
    rows = {"floor": ("floor", "/", None)}
    for name in servers.keys() - {"floor"}:
        rows[f"{name} search"] = (name, "/api/search", {"q": QUESTION})
        if name != "baseline":
            rows[f"{name} nothing"] = (name, "/api/nothing", None)
    with contextlib.ExitStack() as stack:
        clients = {
            name: stack.enter_context(httpx.Client(base_url=stack.enter_context(s).url)) for name, s in servers.items()
        }
        times: dict[str, list[float]] = {row: [] for row in rows}
        for i in range(n + 50):
            for row, (name, path, params) in rows.items():
                started = time.perf_counter()
                assert clients[name].get(path, params=params).status_code == 200
                if i >= 50:  # after a warm-up
                    times[row].append((time.perf_counter() - started) * 1000)
    return {row: statistics.median(t) for row, t in times.items()}


def report(m: dict[str, float]) -> None:
    print(f"floor (bare ASGI app, uvicorn, loopback, client): {m['floor']:.3f} ms")
    for stack in ("full", "bare"):
        print(
            f"{stack:4s} app: /api/search (cached) {m[f'{stack} search']:.3f} ms, /api/nothing "
            f"{m[f'{stack} nothing']:.3f} ms"
        )
    print(
        f"web layer over the floor for a cached search: {m['full search'] - m['floor']:.3f} ms, of which the "
        f"middleware stack {m['full search'] - m['bare search']:.3f} ms, FastAPI's route and dependency "
        f"{m['bare nothing'] - m['floor']:.3f} ms, /api/search's own validation, cache lookup and "
        f"serialisation {m['bare search'] - m['bare nothing']:.3f} ms"
    )
    if "baseline search" in m:
        print(
            f"baseline checkout, /api/search (cached): {m['baseline search']:.3f} ms "
            f"({m['baseline search'] - m['floor']:.3f} ms over the floor)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=ROOT / ".beacon" / "index")
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--baseline", type=Path, help="Another checkout's service, asked the same way.")
    args = parser.parse_args()
    report(measure(args.index, args.n, args.baseline))


if __name__ == "__main__":
    main()
