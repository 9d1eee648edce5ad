"""Beacon behind a real TLS-terminating nginx (Debian's package), certificate made here, page in chromium.

Before the fix the page's CSS and JavaScript were absolute http:// URLs built from the request, which
an https:// page may not load (mixed content, and CSP 'self' does not cover a downgrade)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time

import httpx
import pytest
from starlette.requests import Request

from tests.helpers import GUIDE_CORPUS, LiveServer, free_port, make_settings

pytestmark = [pytest.mark.server, pytest.mark.browser]

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

CONFIG = """\
{user}
worker_processes 1;
events {{ worker_connections 64; }}
http {{
  access_log off;
  client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy; fastcgi_temp_path {tmp}/fastcgi;
  uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;
  server {{
    listen 127.0.0.1:{port} ssl;
    ssl_certificate {tmp}/cert.pem;
    ssl_certificate_key {tmp}/key.pem;
    location / {{
      proxy_pass http://127.0.0.1:{upstream};
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    }}
  }}
}}
"""


@pytest.fixture(scope="module")
def proxied(tmp_path_factory, guide_index, embedder):
    """https://127.0.0.1:PORT → nginx → Beacon (which trusts 127.0.0.1 as its proxy)."""
    from service.app import create_app

    if not os.path.exists(NGINX):
        pytest.skip("nginx is not installed (make system)")
    tmp = tmp_path_factory.mktemp("nginx")
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(tmp / "key.pem"),
            "-out",
            str(tmp / "cert.pem"),
        ],
        check=True,
        capture_output=True,
    )
    settings = make_settings(guide_index, GUIDE_CORPUS, trusted_proxies=["127.0.0.1"])
    with LiveServer(create_app(settings, embedder=embedder)) as upstream:
        port = free_port()
        # As root, nginx's workers would switch to 'nobody', who cannot use the test's temporary folders.
        user = "user root;" if os.geteuid() == 0 else ""
        (tmp / "nginx.conf").write_text(CONFIG.format(user=user, tmp=tmp, port=port, upstream=upstream.port))
        proc = subprocess.Popen(
            [
                NGINX,
                "-c",
                str(tmp / "nginx.conf"),
                "-p",
                str(tmp),
                "-e",
                "stderr",
                "-g",
                f"daemon off; pid {tmp}/nginx.pid;",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        url = f"https://127.0.0.1:{port}"
        try:
            for _ in range(100):
                if proc.poll() is not None:
                    pytest.fail(f"nginx did not start: {proc.stderr.read().decode()}")
                try:
                    httpx.get(url + "/healthz", verify=False)
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            yield url
        finally:
            proc.terminate()
            proc.wait(timeout=10)


@pytest.fixture
def tls_page(browser):
    context = browser.new_context(ignore_https_errors=True)
    page = context.new_page()
    page.violations = []
    page.on(
        "console",
        lambda m: (
            page.violations.append(m.text) if "Content Security Policy" in m.text or "Mixed Content" in m.text else None
        ),
    )
    yield page
    context.close()


def test_page_loads_its_css_and_javascript_over_https_behind_nginx(tls_page, proxied):
    from playwright.sync_api import expect

    page = tls_page
    loaded = {}
    page.on("response", lambda r: loaded.__setitem__(r.url, r.status))
    page.goto(proxied + "/")
    assert loaded.get(proxied + "/static/style.css") == 200, loaded
    assert loaded.get(proxied + "/static/app.js") == 200, loaded
    # style.css applied: the body margin and the brand's weight come from it, not from the browser.
    assert page.evaluate("getComputedStyle(document.body).marginTop") == "0px"
    assert page.locator(".brand").evaluate("e => getComputedStyle(e).fontWeight") == "700"
    # app.js ran: typing shows results without a page load.
    page.evaluate("window.__sameDocument = true")
    page.locator("#q").fill("where can I talk to people about H-alpha")
    expect(page.locator("#results ol.results li").first).to_be_visible()
    assert page.evaluate("window.__sameDocument") is True
    href = page.locator("#results a[data-nav]").first.evaluate("e => e.href")
    assert href.startswith(proxied + "/source/"), href
    assert page.violations == []


def test_widget_works_from_behind_the_proxy(tls_page, proxied):
    from playwright.sync_api import expect

    page = tls_page
    page.goto(proxied + "/widget/demo")
    page.locator("beacon-search input").first.fill("where can I talk to people about H-alpha")
    hit = page.locator("beacon-search a.hit").first
    expect(hit).to_be_visible()
    assert hit.evaluate("e => e.href").startswith(proxied + "/source/")
    assert page.violations == []


def test_forwarded_proto_is_believed_only_from_the_trusted_proxy(proxied, guide_index, embedder):
    from starlette.testclient import TestClient

    from service.app import create_app

    def scheme(request: Request):
        return {"scheme": request.url.scheme}

    for peer, expected in (("127.0.0.1", "https"), ("198.51.100.7", "http")):
        app = create_app(make_settings(guide_index, GUIDE_CORPUS, trusted_proxies=["127.0.0.1"]), embedder=embedder)
        app.add_api_route("/api/scheme", scheme)
        with TestClient(app, base_url="http://127.0.0.1", client=(peer, 1)) as c:
            got = c.get("/api/scheme", headers={"X-Forwarded-Proto": "https"}).json()["scheme"]
        assert got == expected, peer
