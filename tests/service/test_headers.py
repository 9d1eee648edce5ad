"""Web security on the real server (on the small test guide): CSP without inline script, security headers,
escaping, CORS, inventory."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from tests.helpers import GUIDE_CORPUS, LiveServer, make_settings

pytestmark = pytest.mark.server  # starts real uvicorn servers

ANSWER_PAGE = "/?q=where+can+I+talk+to+people+about+H-alpha"
SOURCE_PAGE = "/source/online/skyglass"  # both show the guide's link to https://example.org/skyglass
PAGES = [
    "/",
    ANSWER_PAGE,
    "/?q=zzzz+qqqq",
    SOURCE_PAGE,
    "/source/nothing-here",
    "/?q=" + "x" * 600,
]
EVERYTHING = PAGES + [
    "/api/search?q=thyroid",
    "/api/search?q=",
    "/healthz",
    "/metrics",
    "/openapi.json",
    "/static/style.css",
    "/no-such-page",
    "/docs",
]


def csp_directives(header: str) -> dict[str, str]:
    return {
        d.split(" ", 1)[0]: d.split(" ", 1)[1] if " " in d else "" for d in (p.strip() for p in header.split(";")) if d
    }


class InlineFinder(HTMLParser):
    """Collects what a strict CSP would block: inline scripts, event handler attributes, style attributes."""

    def __init__(self):
        super().__init__()
        self.problems: list[str] = []
        self.external_links: list[dict] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and "src" not in attrs:
            self.problems.append("inline <script>")
        if tag == "style":
            self.problems.append("<style> element")
        for name in attrs:
            if name.startswith("on") or name == "style":
                self.problems.append(f"{tag} {name}=")
        if tag == "a" and (attrs.get("href") or "").startswith("http"):
            self.external_links.append(attrs)


@pytest.mark.parametrize("path", EVERYTHING)
def test_every_response_has_the_security_headers(guide_client, path):
    r = guide_client.get(path)
    assert r.status_code < 500
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "camera=()" in r.headers["permissions-policy"]
    assert "content-security-policy" in r.headers
    assert "access-control-allow-credentials" not in r.headers


@pytest.mark.parametrize("path", PAGES)
def test_pages_have_a_strict_csp_and_no_referrer(guide_client, path):
    r = guide_client.get(path)
    assert "text/html" in r.headers["content-type"]
    csp = csp_directives(r.headers["content-security-policy"])
    assert csp["default-src"] == "'self'"
    assert csp["script-src"] == "'self'" and csp["style-src"] == "'self'"
    assert csp["object-src"] == "'none'" and csp["base-uri"] == "'none'"
    assert csp["form-action"] == "'self'" and csp["frame-ancestors"] == "'self'"
    assert "unsafe" not in r.headers["content-security-policy"]
    assert r.headers["referrer-policy"] == "no-referrer"


@pytest.mark.parametrize("path", PAGES)
def test_pages_contain_nothing_the_csp_would_block(guide_client, path):
    finder = InlineFinder()
    finder.feed(guide_client.get(path).text)
    assert finder.problems == []
    if path in (ANSWER_PAGE, SOURCE_PAGE):
        assert finder.external_links, "the Skyglass link is on the page"
    for link in finder.external_links:
        assert "noreferrer" in link.get("rel", ""), link


def test_api_responses_cannot_be_framed_or_run(guide_client):
    csp = csp_directives(guide_client.get("/api/search?q=thyroid").headers["content-security-policy"])
    assert csp == {"default-src": "'none'", "frame-ancestors": "'none'"}


def test_frame_ancestors_is_configurable_for_widget_host_pages(guide_index, embedder):
    from service.app import create_app

    settings = make_settings(guide_index, GUIDE_CORPUS, frame_ancestors="'self' https://clinic.example.org")
    with LiveServer(create_app(settings, embedder=embedder)) as server:
        import httpx

        r = httpx.get(server.url + "/")
        assert (
            csp_directives(r.headers["content-security-policy"])["frame-ancestors"]
            == "'self' https://clinic.example.org"
        )


XSS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "javascript:alert(1)",
    "<mark>H-alpha</mark>",
    "H-alpha </mark><script>x()</script>",
]


@pytest.mark.parametrize("q", XSS)
def test_questions_are_escaped_in_the_page(guide_client, q):
    html = guide_client.get("/", params={"q": q}).text
    finder = InlineFinder()
    finder.feed(html)
    assert finder.problems == []
    assert "<script>alert" not in html and "<img src=x" not in html and "<script>x()" not in html


@pytest.mark.parametrize("q", XSS)
def test_questions_come_back_as_plain_json_text(guide_client, q):
    r = guide_client.get("/api/search", params={"q": q})
    assert r.headers["content-type"].startswith("application/json")
    assert r.json()["query"] == " ".join(q.split())


def test_cors_never_allows_credentials_or_reflects_any_origin(guide_client):
    for origin in ("https://evil.example", "null"):
        r = guide_client.get("/api/search", params={"q": "thyroid"}, headers={"Origin": origin})
        assert (
            r.headers.get("access-control-allow-origin") not in (origin, "*")
            or "access-control-allow-credentials" not in r.headers
        )
        assert r.headers.get("access-control-allow-origin") != origin


def test_no_leftover_debug_routes(guide_client):
    assert guide_client.get("/redoc").status_code == 404
    paths = set(guide_client.get("/openapi.json").json()["paths"])
    assert {"/api/search", "/healthz"} <= paths
    assert not any(re.search(r"debug|test|internal", p) for p in paths), paths


def test_docs_work_offline_from_local_assets(guide_client):
    page = guide_client.get("/docs")
    assert page.status_code == 200
    srcs = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert srcs and all(s.startswith("/") for s in srcs), srcs  # nothing from a CDN
    for src in srcs:
        assert guide_client.get(src).status_code == 200, src
    csp = csp_directives(page.headers["content-security-policy"])
    assert csp["script-src"] == "'self'"


def test_page_and_docs_run_in_a_browser_without_csp_violations(guide_server, browser):
    page = browser.new_page()
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    try:
        page.goto(guide_server.url + ANSWER_PAGE)
        assert page.locator("ol.results li").count() >= 1
        page.goto(guide_server.url + "/docs")
        page.get_by_text("Answer a question with cited passages").wait_for(timeout=20_000)
    finally:
        page.close()
    assert violations == []
