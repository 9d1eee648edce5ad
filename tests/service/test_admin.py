"""Admin routes: absent without a token, bearer-token protected, one rebuild at a time, no CORS."""

from __future__ import annotations

import time

import httpx
import pytest

from index import build_index, current_version
from service.app import create_app
from tests.helpers import TINY, LiveServer, make_settings, write_corpus

pytestmark = pytest.mark.server  # starts real uvicorn servers

TOKEN = "s3cret-admin-token-for-tests"


def test_admin_routes_do_not_exist_without_a_token(client):
    for path in ("/admin/reload", "/admin/rebuild"):
        assert client.post(path, headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 404
    assert "/admin" not in str(client.get("/openapi.json").json()["paths"])


@pytest.fixture
def admin_site(tmp_path, embedder):
    corpus, index_dir = write_corpus(tmp_path / "corpus", TINY), tmp_path / "index"
    build_index(corpus, index_dir, embedder)
    # No polling: only the admin routes can swap the index in this server.
    settings = make_settings(index_dir, corpus, admin_token=TOKEN, reload_interval=0)
    with LiveServer(create_app(settings, embedder=embedder)) as server:
        with httpx.Client(base_url=server.url, timeout=60) as c:
            yield c, corpus, index_dir


def _auth(token=TOKEN):
    return {"Authorization": f"Bearer {token}"}


def test_admin_token_is_required_and_checked(admin_site):
    client, _, _ = admin_site
    for path in ("/admin/reload", "/admin/rebuild"):
        missing = client.post(path)
        assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
        assert client.post(path, headers={"Authorization": TOKEN}).status_code == 401
        assert client.post(path, headers=_auth("wrong-token-of-some-length")).status_code == 403
        assert client.post(path, headers=_auth(TOKEN + "x")).status_code == 403
    assert client.get("/admin/rebuild").status_code == 401


def test_admin_routes_are_never_open_to_cross_origin_pages(admin_site):
    client, _, _ = admin_site
    preflight = client.options(
        "/admin/reload",
        headers={
            "Origin": "https://evil.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert "access-control-allow-origin" not in preflight.headers
    r = client.post("/admin/reload", headers={**_auth(), "Origin": "https://evil.example"})
    assert r.status_code == 200 and "access-control-allow-origin" not in r.headers


def test_reload_swaps_in_a_version_published_elsewhere(admin_site, embedder):
    client, corpus, index_dir = admin_site
    before = client.get("/healthz").json()["version"]
    write_corpus(corpus, {"extra.md": "---\ntitle: Extra\n---\nThe puffin rowing club meets on Sundays.\n"})
    report = build_index(corpus, index_dir, embedder)
    assert client.get("/healthz").json()["version"] == before  # polling is off
    r = client.post("/admin/reload", headers=_auth())
    assert r.status_code == 200 and r.json() == {"version": report.version, "swapped": True}
    assert client.get("/healthz").json()["version"] == report.version
    top = client.get("/api/search", params={"q": "puffin rowing club", "k": 1}).json()["results"][0]
    assert top["id"].startswith("extra#")


def _wait_for_rebuild(client) -> dict:
    deadline = time.monotonic() + 120
    while (state := client.get("/admin/rebuild", headers=_auth()).json())["running"]:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    return state


def test_rebuild_runs_one_at_a_time_and_goes_live(admin_site):
    client, corpus, index_dir = admin_site
    before = client.get("/healthz").json()["version"]
    body = "".join(f"\n## Meeting {n}\nThe walrus reading group meets for session {n}.\n" for n in range(200))
    write_corpus(corpus, {"walrus.md": f"---\ntitle: Walrus reading group\n---\nIntro.\n{body}"})
    assert client.post("/admin/rebuild", headers=_auth()).status_code == 202
    second = client.post("/admin/rebuild", headers=_auth())
    assert second.status_code == 409 and "already running" in second.json()["detail"]
    state = _wait_for_rebuild(client)
    assert state["error"] is None and state["version"] == current_version(index_dir) != before
    assert state["report"]["added"] >= 200
    assert client.get("/healthz").json()["version"] == state["version"]
    top = client.get("/api/search", params={"q": "walrus reading group", "k": 1}).json()["results"][0]
    assert top["id"].startswith("walrus#")


def test_rebuild_of_a_broken_corpus_keeps_the_live_index_and_names_the_file(admin_site):
    client, corpus, index_dir = admin_site
    before = client.get("/healthz").json()["version"]
    (corpus / "bad.md").write_text("---\ntitle: Bad\nlast_reviewed: someday\n---\nText\n")
    assert client.post("/admin/rebuild", headers=_auth()).status_code == 202
    state = _wait_for_rebuild(client)
    assert "bad.md:3" in state["error"] and state["version"] is None
    assert current_version(index_dir) == before == client.get("/healthz").json()["version"]
