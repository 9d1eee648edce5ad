"""Abuse limits on the real server: per-client rate (429 + Retry-After), bounded concurrency and time (503)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.helpers import GUIDE_CORPUS, LiveServer, make_settings

pytestmark = pytest.mark.server  # starts real uvicorn servers

LONG = "where can I find other patients who had radioactive iodine treatment and surgery " * 5


@pytest.fixture
def serve(guide_index, embedder):
    from service.app import create_app

    servers = []

    def start(**settings) -> str:
        server = LiveServer(create_app(make_settings(guide_index, GUIDE_CORPUS, **settings), embedder=embedder))
        servers.append(server.__enter__())
        return server.url

    yield start
    for server in servers:
        server.__exit__(None, None, None)


def test_rate_limit_answers_429_with_retry_after_and_reason(serve):
    url = serve(rate_limit_per_minute=6, rate_limit_burst=3)
    with httpx.Client(base_url=url) as c:
        statuses = [c.get("/api/search", params={"q": "thyroid"}).status_code for _ in range(3)]
        assert statuses == [200, 200, 200]
        r = c.get("/api/search", params={"q": "thyroid"})
        assert r.status_code == 429
        assert int(r.headers["retry-after"]) >= 1
        assert "too many" in r.json()["detail"]
        assert c.get("/", params={"q": "thyroid"}).status_code == 429  # the page shares the bucket
        # Cheap routes stay open to a limited client.
        assert c.get("/healthz").status_code == 200
        assert c.get("/static/style.css").status_code == 200


def test_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy(serve):
    url = serve(rate_limit_per_minute=6, rate_limit_burst=2)
    with httpx.Client(base_url=url) as c:
        statuses = [
            c.get("/api/search", params={"q": "thyroid"}, headers={"X-Forwarded-For": f"10.0.0.{n}"}).status_code
            for n in range(4)
        ]
    assert statuses[-1] == 429, "a spoofed X-Forwarded-For must not buy a fresh bucket"


def test_trusted_proxy_limits_each_forwarded_client_separately(serve):
    url = serve(rate_limit_per_minute=6, rate_limit_burst=2, trusted_proxies=["127.0.0.1"])
    with httpx.Client(base_url=url) as c:

        def ask(client_ip):
            return c.get(
                "/api/search", params={"q": "thyroid"}, headers={"X-Forwarded-For": f"{client_ip}, 127.0.0.1"}
            ).status_code

        assert [ask("203.0.113.1") for _ in range(3)] == [200, 200, 429]
        assert ask("203.0.113.2") == 200


def test_rate_limit_off_when_zero(serve):
    url = serve(rate_limit_per_minute=0, rate_limit_burst=1)
    with httpx.Client(base_url=url) as c:
        assert {c.get("/api/search", params={"q": "thyroid"}).status_code for _ in range(5)} == {200}


def test_overload_gets_a_quick_503_with_retry_after_not_a_queue(serve):
    # No query cache, and every question differs: a cache hit needs no slot, so repeating one question
    # let the first search answer all the others and nothing ever collided (a red CI run on 2 cores).
    url = serve(max_concurrent_searches=1, query_cache=0)

    start = threading.Barrier(16, timeout=30)  # all 16 clients connected before any of them asks

    def ask(n):
        with httpx.Client(base_url=url, timeout=30) as c:
            start.wait()
            return c.get("/api/search", params={"q": f"{LONG} {n}"})

    busy = []
    with ThreadPoolExecutor(16) as pool:
        for round_ in range(5):  # each round sends 16 searches at once; one slot means most collide
            replies = list(pool.map(ask, range(16 * round_, 16 * round_ + 16)))
            assert {r.status_code for r in replies} <= {200, 503}
            busy = [r for r in replies if r.status_code == 503]
            if busy:
                break
    assert busy, "16 simultaneous searches against one slot never got a 503"
    assert all(r.headers["retry-after"] == "1" and "busy" in r.json()["detail"] for r in busy)


def test_enough_slots_means_no_503(serve):
    url = serve(max_concurrent_searches=64)

    def ask(_):
        with httpx.Client(base_url=url, timeout=30) as c:
            return c.get("/api/search", params={"q": LONG}).status_code

    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(ask, range(16))) == {200}


def test_search_past_the_time_limit_gets_503(serve):
    url = serve(request_timeout_s=0.0001)
    with httpx.Client(base_url=url, timeout=30) as c:
        r = c.get("/api/search", params={"q": LONG})
        assert r.status_code == 503 and "took longer" in r.json()["detail"]
        assert c.get("/healthz").status_code == 200  # only searches are timed out
