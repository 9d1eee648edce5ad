"""Hardening, round two (issue 15), in process: the gap log, Host, proxies and rate keys, small items.

Each test reproduces one finding of the adversarial audit; the real model and index run behind the
real middleware stack through Starlette's TestClient (which runs the lifespan), on the small test guide."""

from __future__ import annotations

import os
import secrets
import sqlite3
import stat
import time
from contextlib import contextmanager

import pytest
from starlette.testclient import TestClient

from tests.helpers import GUIDE_CORPUS, beacon_env, free_port, make_settings, run_beacon

UNANSWERED = "zebra migration patterns across the serengeti savanna"
BASE = "http://127.0.0.1"


@contextmanager
def app_client(guide_index, embedder, client=("127.0.0.1", 50000), routes=(), **settings):
    from service.app import create_app

    app = create_app(make_settings(guide_index, GUIDE_CORPUS, **settings), embedder=embedder)
    for path, endpoint in routes:
        app.add_api_route(path, endpoint)
    with TestClient(app, base_url=BASE, client=client, raise_server_exceptions=False) as c:
        yield c


def gap_rows(path) -> int:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT count(*) FROM gaps").fetchone()[0]


# --- 2. the gap log never turns a search into an error -------------------------------------------


def test_gap_log_deleted_while_serving_is_recreated_and_searches_go_on(guide_index, embedder, tmp_path):
    log_path = tmp_path / "gaps.sqlite"
    with app_client(guide_index, embedder, query_log_path=log_path) as c:
        assert c.get("/api/search", params={"q": UNANSWERED}).json()["answer"] is None
        assert gap_rows(log_path) == 1
        log_path.unlink()
        replies = [c.get("/api/search", params={"q": f"{UNANSWERED} {n}"}) for n in range(5)]
        assert [r.status_code for r in replies] == [200] * 5
        assert gap_rows(log_path) == 5  # the table came back
        assert stat.S_IMODE(os.stat(log_path).st_mode) == 0o600


def test_gap_log_write_failure_is_counted_and_logged_once_never_shown(guide_index, embedder, tmp_path, caplog):
    log_path = tmp_path / "gaps.sqlite"
    with app_client(guide_index, embedder, query_log_path=log_path) as c:
        log_path.unlink()
        log_path.mkdir()  # what SQLite now finds there cannot be opened (works as root too, unlike chmod)
        statuses = [c.get("/api/search", params={"q": f"{UNANSWERED} {n}"}).status_code for n in range(3)]
        statuses.append(c.get("/", params={"q": UNANSWERED}).status_code)
        assert statuses == [200, 200, 200, 200]
        assert "beacon_gap_log_write_failures_total 4.0" in c.get("/metrics").text
    failures = [r for r in caplog.records if r.name == "beacon.querylog"]
    assert len(failures) == 1, "logged at most once a minute"


def test_unwritable_gap_log_is_refused_at_startup_with_one_line(guide_index, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = run_beacon(
        "serve",
        "--no-build",
        "--index",
        str(guide_index),
        "--corpus",
        str(GUIDE_CORPUS),
        "--port",
        str(free_port()),
        env=beacon_env(BEACON_QUERY_LOG_PATH=blocker / "gaps.sqlite"),
    )
    assert result.returncode == 1
    assert "serving" not in result.stdout
    lines = [l for l in result.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and "gap log" in lines[0] and "writable" in lines[0], result.stderr


def test_gap_log_size_cap_retention_at_start_and_on_read(tmp_path):
    from service.querylog import DAY, CuratorLog, report_gaps

    path = tmp_path / "gaps.sqlite"
    log = CuratorLog(path, retention_days=30, max_rows=100)
    now = time.time()
    for n in range(150):
        log.record_unanswered(f"q{n}", None, now=now - 150 + n)
    assert gap_rows(path) == 100  # the newest 100
    log.record_unanswered("very old", None, now=now - 40 * DAY)  # written by a clock gone wrong, say
    CuratorLog(path, retention_days=30, max_rows=100)  # start-up applies the retention
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM gaps WHERE question = 'very old'").fetchone()[0] == 0
        db.execute("INSERT INTO gaps (asked_at, question, top_score) VALUES (?, 'old again', NULL)", (now - 40 * DAY,))
    # A report never shows what is past the retention, even before the service next prunes it.
    assert "old again" not in [g.question for g in report_gaps(path, days=3650, retention_days=30)]
    assert "old again" in [g.question for g in report_gaps(path, days=3650, limit=1000)]
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_unhandled_errors_are_beacon_shaped_with_security_and_cors_headers(guide_index, embedder):
    def boom():
        raise RuntimeError("secret internals")

    with app_client(guide_index, embedder, routes=[("/api/search/boom", boom), ("/boom", boom)]) as c:
        api = c.get("/api/search/boom", headers={"Origin": "https://clinic.example.org"})
        page = c.get("/boom")
    assert api.status_code == 500 and api.json() == {
        "detail": "Something went wrong on our side; please try again.",
        "hint": None,
    }
    assert page.status_code == 500 and page.headers["content-type"].startswith("text/html")
    assert "Something went wrong" in page.text and "secret internals" not in page.text + api.text
    for r in (api, page):
        assert r.headers["x-content-type-options"] == "nosniff"
        assert "content-security-policy" in r.headers


# --- 4. the Host header is never reflected --------------------------------------------------------


def test_unknown_host_is_refused_and_never_reflected(guide_index, embedder):
    with app_client(guide_index, embedder) as c:
        r = c.get("/", headers={"Host": "evil.example"})
        assert r.status_code == 400 and "evil.example" not in r.text
        assert r.headers["x-content-type-options"] == "nosniff"
        assert c.get("/", headers={"Host": "localhost:8000"}).status_code == 200
    with app_client(guide_index, embedder, allowed_hosts=["*"]) as c:
        page = c.get("/", params={"q": "I-131"}, headers={"Host": "evil.example"})
        api = c.get("/api/search", params={"q": "I-131"}, headers={"Host": "evil.example"})
        slash = c.get("/api/search/", params={"q": "I-131"}, headers={"Host": "evil.example"}, follow_redirects=False)
    assert page.status_code == 200 and "evil.example" not in page.text
    assert '<script src="/static/app.js"' in page.text
    assert api.status_code == 200 and "evil.example" not in api.text
    assert all(r["url"].startswith("/source/") for r in api.json()["results"])
    assert "evil.example" not in slash.headers.get("location", "") and slash.status_code == 404


def test_health_checks_answer_whatever_host_a_balancer_or_probe_names(guide_index, embedder):
    # Kubernetes probes send the pod's IP as Host; haproxy's checks may send none. Nothing there comes from Host.
    with app_client(guide_index, embedder) as c:
        for path in ("/healthz", "/readyz", "/metrics"):
            r = c.get(path, headers={"Host": "10.1.2.3:8000"})
            assert r.status_code == 200 and "10.1.2.3" not in r.text, path
        assert c.get("/", headers={"Host": "10.1.2.3:8000"}).status_code == 400


def test_public_url_builds_the_links_and_its_host_is_allowed(guide_index, embedder):
    with app_client(guide_index, embedder, public_url="https://beacon.example.org") as c:
        r = c.get("/api/search", params={"q": "I-131"}, headers={"Host": "beacon.example.org"})
    assert r.status_code == 200
    assert all(x["url"].startswith("https://beacon.example.org/source/") for x in r.json()["results"])


def test_allowed_hosts_setting_reads_a_comma_separated_list():
    from service.settings import Settings

    s = Settings(allowed_hosts="beacon.example.org, *.example.net")
    assert s.trusted_hosts() == ["beacon.example.org", "*.example.net"]
    assert "beacon.example.org" in Settings(public_url="https://Beacon.example.org/").trusted_hosts()


# --- 5. the rate limit behind trusted proxies -----------------------------------------------------


def scope(peer: str, *forwarded: str) -> dict:
    return {"client": (peer, 5000), "headers": [(b"x-forwarded-for", f.encode()) for f in forwarded]}


@pytest.mark.parametrize(
    "request_scope, expected",
    [
        (scope("10.0.0.5", "6.6.6.6", "203.0.113.9"), "203.0.113.9"),  # forged line first, haproxy's appended
        (scope("10.0.0.5", "6.6.6.6, 203.0.113.9"), "203.0.113.9"),
        (scope("10.0.0.5", "6.6.6.6, 203.0.113.9, 10.0.0.7"), "203.0.113.9"),  # a second trusted proxy (CIDR)
        (scope("10.0.0.5", "203.0.113.9:51234"), "203.0.113.9"),  # ip:port
        (scope("10.0.0.5", "[2001:db8:1:2::77]:443"), "2001:db8:1:2::/64"),  # [v6]:port, bucketed by /64
        (scope("10.0.0.5", "2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64"),
        (scope("10.0.0.5", "::ffff:203.0.113.9"), "203.0.113.9"),  # IPv4-mapped
        (scope("10.0.0.5", "garbage, 203.0.113.9"), "203.0.113.9"),
        (scope("10.0.0.5", "203.0.113.9, garbage"), "10.0.0.5"),  # an unreadable hop: the proxy is what we know
        (scope("198.51.100.1", "203.0.113.9"), "198.51.100.1"),  # untrusted peer: its header is ignored
        (scope("2001:db8:9:9::1"), "2001:db8:9:9::/64"),
    ],
)
def test_client_key_walks_all_forwarded_lines_from_the_right(request_scope, expected):
    from service.limits import client_ip

    assert client_ip(request_scope, ["10.0.0.0/8"]) == expected


def test_forged_forwarded_lines_ports_and_ipv6_rotation_do_not_bypass_the_rate(guide_index, embedder):
    with app_client(
        guide_index, embedder, rate_limit_per_minute=6, rate_limit_burst=3, trusted_proxies=["127.0.0.0/8"]
    ) as c:

        def ask(*forwarded):
            return c.get(
                "/api/search", params={"q": "thyroid"}, headers=[("X-Forwarded-For", f) for f in forwarded]
            ).status_code

        # As haproxy's `option forwardfor` sends it: the client's own forged line, then the proxy's.
        assert [ask(f"10.9.9.{n}", "203.0.113.9") for n in range(6)] == [200, 200, 200, 429, 429, 429]
        assert [ask(f"198.51.100.4:{40000 + n}") for n in range(5)] == [200, 200, 200, 429, 429]
        assert [ask(f"2001:db8:5:5::{n:x}") for n in range(1, 6)] == [200, 200, 200, 429, 429]
        assert ask("2001:db8:5:6::1") == 200  # another /64 is another client
        assert 'route="/api/search",status="429"' in c.get("/metrics").text  # labelled with the route


# --- 7. small items -------------------------------------------------------------------------------


def test_cache_hits_need_no_search_slot(guide_index, embedder):
    with app_client(guide_index, embedder, max_concurrent_searches=1) as c:
        assert c.get("/api/search", params={"q": "thyroid"}).status_code == 200  # now cached
        slots = c.app.state.beacon.search.slots
        with slots.slot():  # the only slot is busy with someone else's search
            hit = c.get("/api/search", params={"q": "thyroid"})
            miss = c.get("/api/search", params={"q": "hospital lectures"})
            page_miss = c.get("/", params={"q": "hospital lectures"})
    assert hit.status_code == 200
    assert miss.status_code == 503 and miss.headers["retry-after"] == "1" and "busy" in miss.json()["detail"]
    assert page_miss.status_code == 503 and page_miss.headers["content-type"].startswith("text/html")


def test_bare_page_spends_no_token_and_a_page_429_is_a_page(guide_index, embedder):
    with app_client(guide_index, embedder, rate_limit_per_minute=6, rate_limit_burst=2) as c:
        assert {c.get("/").status_code for _ in range(10)} == {200}
        assert c.get("/", params={"q": "  "}).status_code == 200  # a blank question is the bare page
        assert [c.get("/", params={"q": "thyroid"}).status_code for _ in range(2)] == [200, 200]
        refused = c.get("/", params={"q": "thyroid"})
    assert refused.status_code == 429 and refused.headers["content-type"].startswith("text/html")
    assert "too many searches" in refused.text and '<link rel="stylesheet" href="/static/style.css">' in refused.text
    assert int(refused.headers["retry-after"]) >= 1


def test_head_works_on_every_get_route(guide_index, embedder):
    with app_client(guide_index, embedder) as c:
        doc = c.get("/api/search", params={"q": "thyroid"}).json()["results"][0]["url"].split("#")[0]
        for path in [
            "/",
            "/?q=thyroid",
            "/api/search?q=thyroid",
            "/healthz",
            doc,
            "/static/style.css",
            "/widget.js",
            "/metrics",
            "/openapi.json",
        ]:
            get, head = c.get(path), c.head(path)
            assert head.status_code == get.status_code == 200, path
            assert head.content == b"" and head.headers["content-type"] == get.headers["content-type"], path


def test_healthz_shows_no_dependency_versions_admin_status_does(guide_index, embedder):
    token = secrets.token_urlsafe(32)
    with app_client(guide_index, embedder, admin_token=token) as c:
        health = c.get("/healthz").json()
        status = c.get("/admin/status", headers={"Authorization": f"Bearer {token}"}).json()
    assert "index" not in health and health["version"]
    assert status["index"]["versions"] and status["version"] == health["version"]


@pytest.mark.parametrize("token", [" " * 16, "aaaaaaaaaaaaaaaa", "abababababababab", "abc def ghi jkl mno"])
def test_admin_token_without_entropy_is_refused_with_a_clear_message(token):
    from pydantic import ValidationError

    from service.settings import Settings

    with pytest.raises(ValidationError, match="admin token .*secrets.token_urlsafe"):
        Settings(admin_token=token)
    Settings(admin_token=secrets.token_urlsafe(32))


def test_failed_admin_attempts_are_rate_limited(guide_index, embedder):
    token = secrets.token_urlsafe(32)
    with app_client(guide_index, embedder, admin_token=token) as c:
        wrong = [
            c.post("/admin/reload", headers={"Authorization": f"Bearer x{n}{token}"}).status_code for n in range(12)
        ]
        assert wrong[:10] == [403] * 10 and wrong[10:] == [429, 429]
        # Even the right token waits now: a guesser cannot tell a hit from a miss by the status.
        assert c.post("/admin/reload", headers={"Authorization": f"Bearer {token}"}).status_code == 429
    with app_client(guide_index, embedder, admin_token=token, client=("127.0.0.2", 1)) as c:
        assert c.post("/admin/reload", headers={"Authorization": f"Bearer {token}"}).status_code == 200
