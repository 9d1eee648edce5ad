"""/metrics in Prometheus text format: latency by route, searches, unanswered searches, index version."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.helpers import GUIDE_CORPUS, LiveServer, make_settings

pytestmark = pytest.mark.server  # starts real uvicorn servers


def scrape(url: str) -> dict[str, list]:
    r = httpx.get(url + "/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    return {f.name: f.samples for f in text_string_to_metric_families(r.text)}


def value(samples, name: str, **labels) -> float:
    return sum(s.value for s in samples if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()))


def test_metrics_count_searches_unanswered_and_latency_by_route(guide_index, embedder):
    from service.app import create_app

    with LiveServer(create_app(make_settings(guide_index, GUIDE_CORPUS), embedder=embedder)) as server:
        before = scrape(server.url)
        assert value(before["beacon_searches"], "beacon_searches_total") == 0
        httpx.get(server.url + "/api/search", params={"q": "where can I talk to people about H-alpha"})
        httpx.get(server.url + "/api/search", params={"q": "qwzx flibbertigibbet vorpal snark"})
        httpx.get(server.url + "/", params={"q": "qwzx flibbertigibbet vorpal snark"})
        httpx.get(server.url + "/api/search", params={"q": ""})  # a 422 is timed but is no search
        httpx.get(server.url + "/source/online/skyglass")
        httpx.get(server.url + "/no/such/thing/1")
        httpx.get(server.url + "/no/such/thing/2")
        after = scrape(server.url)
        live_version = httpx.get(server.url + "/healthz").json()["version"]

    assert value(after["beacon_searches"], "beacon_searches_total") == 3
    assert value(after["beacon_searches_without_answer"], "beacon_searches_without_answer_total") == 2
    latency = after["beacon_request_seconds"]
    assert value(latency, "beacon_request_seconds_count", route="/api/search", status="200") == 2
    assert value(latency, "beacon_request_seconds_count", route="/api/search", status="422") == 1
    assert value(latency, "beacon_request_seconds_count", route="/source/{doc_id:path}") == 1
    assert value(latency, "beacon_request_seconds_bucket", route="/api/search", status="200", le="+Inf") == 2
    # Unknown paths share one label, so a scanner cannot blow up the series count.
    routes = {s.labels["route"] for s in latency}
    assert "unmatched" in routes and not any(r.startswith("/no/such") for r in routes)
    info = [s for s in after["beacon_index_info"] if s.value == 1]
    assert [s.labels["version"] for s in info] == [live_version]


def test_metrics_are_not_rate_limited_or_shared_cross_origin(guide_index, embedder):
    from service.app import create_app

    settings = make_settings(guide_index, GUIDE_CORPUS, rate_limit_per_minute=1, rate_limit_burst=1)
    with LiveServer(create_app(settings, embedder=embedder)) as server:
        for _ in range(5):
            r = httpx.get(server.url + "/metrics", headers={"Origin": "https://evil.example"})
            assert r.status_code == 200
            assert "access-control-allow-origin" not in r.headers


def test_metrics_add_up_across_workers_in_multiprocess_mode(guide_index, tmp_path):
    import signal
    import subprocess
    import time

    from prometheus_client.multiprocess import MultiProcessCollector

    from tests.helpers import beacon_env, free_port, start_beacon

    def searches_in(path) -> float:
        return sum(
            s.value
            for m in MultiProcessCollector.merge([str(path)])
            for s in m.samples
            if s.name == "beacon_searches_total"
        )

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = start_beacon(
        "serve",
        "--no-build",
        "--workers",
        "2",
        "--index",
        str(guide_index),
        "--corpus",
        str(GUIDE_CORPUS),
        "--port",
        str(port),
        env=beacon_env(BEACON_RATE_LIMIT_PER_MINUTE=0, PROMETHEUS_MULTIPROC_DIR=tmp_path),
        stdout=subprocess.DEVNULL,
    )
    sent = 0
    try:
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline:
            try:
                # A new connection each time, so the kernel spreads them over the workers.
                r = httpx.get(url + "/api/search", params={"q": "thyroid groups"}, headers={"Connection": "close"})
            except httpx.TransportError:
                time.sleep(0.5)
                continue
            sent += r.status_code == 200
            counts = [searches_in(p) for p in tmp_path.glob("counter_*.db")]
            if sent >= 4 and len(counts) == 2 and all(counts):
                break
        totals = {value(scrape(url)["beacon_searches"], "beacon_searches_total") for _ in range(4)}
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    assert len(counts) == 2 and all(counts), f"both workers should have answered searches: {counts}"
    assert totals == {sent}, "every scrape, whichever worker serves it, counts the searches of both"
