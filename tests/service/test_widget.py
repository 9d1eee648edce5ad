"""Serving the widget, and the CORS rules that let other sites' pages call /api/search (and nothing else)."""

from __future__ import annotations

import httpx
import pytest
from pydantic import ValidationError

from service.settings import Settings
from tests.helpers import GUIDE_CORPUS, LiveServer, make_settings

pytestmark = pytest.mark.server  # starts real uvicorn servers

EXAMPLE = "where can I talk to people about H-alpha"
OTHER = "https://charity.example"


def test_widget_js_is_served_as_cacheable_javascript(guide_client):
    r = guide_client.get("/widget.js")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/javascript")
    assert "max-age=" in r.headers["cache-control"] and "public" in r.headers["cache-control"]
    assert r.headers["cross-origin-resource-policy"] == "cross-origin"
    assert 'customElements.define("beacon-search"' in r.text
    again = guide_client.get("/widget.js", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304


def test_widget_loads_nothing_from_elsewhere(guide_client):
    js = guide_client.get("/widget.js").text
    assert "innerHTML" not in js and "eval(" not in js and "import(" not in js
    assert "@import" not in js and "url(" not in js, "no fonts or stylesheets fetched"


def test_readme_states_the_widget_size():
    import gzip
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    js = (root / "service/static/widget.js").read_bytes()
    stated = re.search(r"`widget.js` is ([\d,]+) bytes \(([\d,]+) gzipped\)", (root / "README.md").read_text())
    assert stated, "README says how big widget.js is"
    raw, gz = (int(n.replace(",", "")) for n in stated.groups())
    # Within 10%: small edits need no README change, growth does.
    assert abs(raw - len(js)) <= raw / 10 and abs(gz - len(gzip.compress(js, 9))) <= gz / 10, (len(js), raw, gz)


def test_widget_demo_page(guide_client):
    r = guide_client.get("/widget/demo")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert '<script src="/widget.js" defer></script>' in r.text and "<beacon-search" in r.text


def test_search_allows_any_origin_by_default_without_credentials(guide_client):
    r = guide_client.get("/api/search", params={"q": EXAMPLE}, headers={"Origin": OTHER})
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in r.headers


def test_preflight_allows_get_only(guide_client):
    ok = guide_client.options("/api/search", headers={"Origin": OTHER, "Access-Control-Request-Method": "GET"})
    assert ok.status_code == 200 and ok.headers["access-control-allow-methods"] == "GET"
    post = guide_client.options("/api/search", headers={"Origin": OTHER, "Access-Control-Request-Method": "POST"})
    assert post.status_code == 400
    assert guide_client.post("/api/search", params={"q": EXAMPLE}, headers={"Origin": OTHER}).status_code == 405


@pytest.mark.parametrize("path", ["/healthz", "/", "/source/online/skyglass", "/openapi.json"])
def test_other_routes_are_not_readable_cross_origin(guide_client, path):
    r = guide_client.get(path, headers={"Origin": OTHER})
    assert "access-control-allow-origin" not in r.headers
    pre = guide_client.options(path, headers={"Origin": OTHER, "Access-Control-Request-Method": "GET"})
    assert "access-control-allow-origin" not in pre.headers


def test_configured_origins_only(guide_index, embedder):
    from service.app import create_app

    settings = make_settings(guide_index, GUIDE_CORPUS, cors_origins="https://allowed.example, http://127.0.0.1:9")
    with LiveServer(create_app(settings, embedder=embedder)) as server, httpx.Client(base_url=server.url) as c:
        ok = c.get("/api/search", params={"q": "H-alpha"}, headers={"Origin": "https://allowed.example"})
        assert ok.headers["access-control-allow-origin"] == "https://allowed.example"
        for origin in (OTHER, "null"):
            r = c.get("/api/search", params={"q": "H-alpha"}, headers={"Origin": origin})
            assert r.status_code == 200 and "access-control-allow-origin" not in r.headers, origin


@pytest.mark.parametrize(
    "value, reason",
    [
        ("null", "must not contain 'null'"),
        ("https://ok.example,null", "must not contain 'null'"),
        ("ftp://x.example", r"must be \* or an origin"),
    ],
)
def test_bad_cors_origins_are_refused_with_a_reason(value, reason):
    with pytest.raises(ValidationError, match=reason):
        Settings(cors_origins=value)
