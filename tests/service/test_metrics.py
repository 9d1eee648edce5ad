"""/metrics in Prometheus text format: latency by route, searches, unanswered searches, index version."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import LiveServer, make_settings


def scrape(url: str) -> dict[str, list]:
    r = httpx.get(url + "/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    return {f.name: f.samples for f in text_string_to_metric_families(r.text)}


def value(samples, name: str, **labels) -> float:
    return sum(s.value for s in samples if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()))


def test_metrics_count_searches_unanswered_and_latency_by_route(default_index, embedder):
    from service.app import create_app

    with LiveServer(create_app(make_settings(default_index), embedder=embedder)) as server:
        before = scrape(server.url)
        assert value(before["beacon_searches"], "beacon_searches_total") == 0
        httpx.get(server.url + "/api/search", params={"q": "where can I talk to people about I-131"})
        httpx.get(server.url + "/api/search", params={"q": "qwzx flibbertigibbet vorpal snark"})
        httpx.get(server.url + "/", params={"q": "qwzx flibbertigibbet vorpal snark"})
        httpx.get(server.url + "/api/search", params={"q": ""})  # a 422 is timed but is no search
        httpx.get(server.url + "/source/online/mi-jian")
        httpx.get(server.url + "/no/such/thing/1")
        httpx.get(server.url + "/no/such/thing/2")
        after = scrape(server.url)
        manifest = httpx.get(server.url + "/healthz").json()["index"]

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
    assert [s.labels["version"] for s in info] == [manifest["version"]]


def test_metrics_are_not_rate_limited_or_shared_cross_origin(default_index, embedder):
    from service.app import create_app

    settings = make_settings(default_index, rate_limit_per_minute=1, rate_limit_burst=1)
    with LiveServer(create_app(settings, embedder=embedder)) as server:
        for _ in range(5):
            r = httpx.get(server.url + "/metrics", headers={"Origin": "https://evil.example"})
            assert r.status_code == 200
            assert "access-control-allow-origin" not in r.headers
