"""Hardening, round three (issue 21), the service side: corpus text is never markup, request bodies are
bounded before they are read, votes come from the site or its widget's origins, and what a curator's
terminal or a stranger's /healthz sees is bounded."""

from __future__ import annotations

import http.client
import re
import secrets
import socket
import sqlite3

import httpx
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from tests.helpers import GUIDE_CORPUS, LOCAL, LiveServer, make_settings, write_corpus

pytestmark = pytest.mark.server

EVIL_TAG = "<a href=https://evil.example/login>Sign in</a>"
# An escape sequence in a log row (a file name could carry one before such names were refused, see
# test_symlinks.py's L7 test; a log file written by hand or by an older Beacon still can): a report row must not.
ESC_TEXT = "clear\x1b[2J\x1b]0;owned\x07screen"
HOSTILE = {
    "beacon.toml": """\
        name = "<b>Evil</b> docs"

        [copy]
        tagline = "<a href=https://evil.example/>Log in</a>"
        intro = "<img src=x> Ask here"
        no_answer = "<a href=https://evil.example/>Try here</a>"
        """,
    "notes/diary.md": f"""\
        ---
        title: "<b>Bold</b> title <img src=x>"
        tags: ["{EVIL_TAG}", "diaries"]
        ---
        Patients keep a diary of radioactive iodine therapy and share it with the group.

        ## <i>Italic</i> heading
        The diary helps other patients before their own iodine therapy.
        """,
}
PERCENT = {
    "50%-off/deal.md": """\
        ---
        title: Discount diary
        tags: ["100% %(x)s %s", "diaries"]
        ---
        Patients keep a diary of radioactive iodine therapy and share it with the group.
        """,
}
QUESTION = "radioactive iodine therapy diary"


def _server(tmp_path, embedder, files, **settings):
    from index import build_index
    from service.app import create_app

    corpus = write_corpus(tmp_path / "corpus", files)
    build_index(corpus, tmp_path / "index", embedder)
    settings.setdefault("query_log_path", tmp_path / "log.sqlite")
    return LiveServer(create_app(make_settings(tmp_path / "index", corpus, **settings), embedder=embedder))


@pytest.fixture(scope="module")
def hostile(tmp_path_factory, embedder):
    token = secrets.token_urlsafe(32)
    tmp = tmp_path_factory.mktemp("hostile")
    with _server(tmp, embedder, HOSTILE, admin_token=token, cors_origins=["https://widget.example"]) as server:
        server.token, server.db = token, tmp / "log.sqlite"
        yield server


# --- M2: corpus text is never markup -------------------------------------------------------------------


def test_a_tag_written_as_html_is_shown_as_text_in_the_chips(hostile):
    r = httpx.get(hostile.url + "/", params={"q": QUESTION})
    assert r.status_code == 200, r.text[:500]
    chips = re.search(r'<form class="filters".*?</form>', r.text, re.DOTALL).group(0)
    assert "&lt;a href=https://evil.example/login&gt;sign in&lt;/a&gt;" in chips  # labels are lower case
    assert "<a href=https://evil.example" not in r.text
    # The other corpus words on the page stay text as well: the title, its section heading.
    assert "<b>Bold</b>" not in r.text and "<img src=x>" not in r.text and "<i>Italic</i>" not in r.text
    assert "&lt;b&gt;Bold&lt;/b&gt; title" in r.text


def test_the_site_file_words_are_text_on_every_page(hostile):
    pages = [
        httpx.get(hostile.url + "/"),
        httpx.get(hostile.url + "/", params={"q": "qwzx flibbertigibbet vorpal"}),  # the no-answer words
        httpx.get(hostile.url + "/source/notes/diary"),
        httpx.get(hostile.url + "/no/such/page"),
    ]
    for r in pages:
        assert "<b>Evil</b>" not in r.text and "&lt;b&gt;Evil&lt;/b&gt; docs" in r.text, r.url
        assert "<a href=https://evil.example/" not in r.text and "<img src=x>" not in r.text, r.url
    assert "&lt;img src=x&gt; Ask here" in pages[0].text


def test_a_tag_written_as_html_stays_text_on_the_source_page_and_in_the_api(hostile):
    page = httpx.get(hostile.url + "/source/notes/diary").text
    assert "<b>Bold</b>" not in page and "&lt;b&gt;Bold&lt;/b&gt;" in page
    body = httpx.get(hostile.url + "/api/search", params={"q": QUESTION}).json()
    assert EVIL_TAG.lower() in body["facets"]  # the JSON says what the corpus says; the widget writes it as text


def test_the_question_page_translates_only_interface_words_not_corpus_labels(hostile):
    # Chinese page: a known filter name is translated, an unknown label is shown as written, escaped.
    r = httpx.get(hostile.url + "/", params={"q": QUESTION, "lang": "zh"})
    assert r.status_code == 200
    assert 'value="diaries"> 日记 <span' in r.text
    assert "&lt;a href=https://evil.example/login&gt;" in r.text and "<a href=https://evil.example" not in r.text


# --- M3: a % in a label ---------------------------------------------------------------------------------


def test_a_percent_sign_in_a_tag_or_folder_does_not_break_the_question_page(tmp_path, embedder):
    with _server(tmp_path, embedder, PERCENT) as server:
        r = httpx.get(server.url + "/", params={"q": QUESTION})
        filtered = httpx.get(server.url + "/", params=[("q", QUESTION), ("tag", "50%-off")])
        zh = httpx.get(server.url + "/", params={"q": QUESTION, "lang": "zh"})
    assert r.status_code == 200, r.text[:500]
    assert 'value="50%-off"' in r.text and "100% %(x)s %s" in r.text
    assert filtered.status_code == 200 and 'value="50%-off" checked' in filtered.text
    assert zh.status_code == 200 and "100% %(x)s %s" in zh.text


# --- M4: bodies are bounded before they are read --------------------------------------------------------


def _raw(url: str, head: bytes, body: bytes = b"", read_timeout: float = 20) -> bytes:
    """Send a request head (and maybe part of a body) on a socket; the answer read until the server closes
    or stops sending. The server must answer without waiting for the rest of the body."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=read_timeout) as s:
        s.sendall(head + body)
        answer = b""
        try:
            while b"\r\n\r\n" not in answer or not _complete(answer):
                chunk = s.recv(65536)
                if not chunk:
                    break
                answer += chunk
        except TimeoutError:
            pass
    return answer


def _complete(answer: bytes) -> bool:
    head, _, body = answer.partition(b"\r\n\r\n")
    length = re.search(rb"(?i)content-length: *(\d+)", head)
    return bool(length) and len(body) >= int(length.group(1))


def test_a_huge_declared_body_is_refused_before_it_is_read(hostile):
    head = (
        b"POST /api/feedback HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        b"Accept: application/json\r\nContent-Length: 300000000\r\n\r\n"
    )
    answer = _raw(hostile.url, head, b"q=x&")  # 4 of 300 million bytes sent: the answer cannot wait for the rest
    assert answer.startswith(b"HTTP/1.1 413"), answer[:300]
    assert b"application/json" in answer and b"8192 bytes" in answer


def test_a_chunked_body_without_length_is_refused_once_it_passes_the_cap(hostile):
    head = (
        b"POST /api/feedback HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        b"Accept: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    chunk = b"a" * 1024
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(20))  # 20 KB, and no last chunk
    answer = _raw(hostile.url, head, body)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:300]
    assert b"8192 bytes" in answer


def test_every_route_bounds_its_body_and_pages_get_the_error_page(hostile):
    for path in ("/", "/source/notes/diary", "/admin/reload", "/no/such/page"):
        head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 300000000\r\n\r\n".encode()
        answer = _raw(hostile.url, head)
        assert answer.startswith(b"HTTP/1.1 413"), (path, answer[:300])
    page = _raw(hostile.url, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 300000000\r\n\r\n")
    assert page.startswith(b"HTTP/1.1 413") and b"text/html" in page and b"<!doctype html>" in page


def test_normal_feedback_still_works_and_is_stored(hostile):
    passage = httpx.get(hostile.url + "/api/search", params={"q": QUESTION}).json()["results"][0]["id"]
    data = {"q": QUESTION, "passage": passage, "kind": "result", "helpful": "yes"}
    r = httpx.post(hostile.url + "/api/feedback", data=data, headers={"Accept": "application/json"})
    assert r.status_code == 200 and r.json() == {"thanks": True}
    form = httpx.post(hostile.url + "/api/feedback", data=data, headers={"Accept": "text/html"})
    assert form.status_code == 303
    with sqlite3.connect(hostile.db) as db:
        assert db.execute("SELECT count(*) FROM feedback WHERE passage = ?", (passage,)).fetchone()[0] >= 2


# --- L3: an unknown tag's error is bounded --------------------------------------------------------------


def test_an_unknown_tag_names_a_few_close_matches_not_every_tag(guide_app_client):
    r = guide_app_client.get("/api/search", params={"q": "stargazing groups", "tag": ["onlin", "zzzz" * 25]})
    assert r.status_code == 422
    detail, hint = r.json()["detail"], r.json()["hint"]
    assert "unknown tag 'onlin'" in detail and "'online'" in detail  # the close match
    assert "equipment" not in detail and "h-alpha" not in detail  # not a list of every tag
    assert "facets" in hint
    many = guide_app_client.get(
        "/api/search", params={"q": "x", "tag": [f"nonsense-{n:02d}-" + "x" * 80 for n in range(50)]}
    )
    assert many.status_code == 422 and len(many.content) < 2000, len(many.content)


# --- L4: votes from other origins -----------------------------------------------------------------------


def _vote(server, origin: str | None, accept="application/json"):
    passage = httpx.get(server.url + "/api/search", params={"q": QUESTION}).json()["results"][0]["id"]
    headers = {"Accept": accept} | ({"Origin": origin} if origin else {})
    data = {"q": "origin check " + (origin or "none"), "passage": passage, "helpful": "no"}
    return httpx.post(server.url + "/api/feedback", data=data, headers=headers)


def _stored(server, origin: str | None) -> int:
    with sqlite3.connect(server.db) as db:
        return db.execute(
            "SELECT count(*) FROM feedback WHERE question = ?", ("origin check " + (origin or "none"),)
        ).fetchone()[0]


def test_a_vote_from_another_origin_is_refused_and_not_stored(hostile):
    r = _vote(hostile, "https://evil.example")
    assert r.status_code == 403 and "https://evil.example" in r.json()["detail"], r.text
    assert _stored(hostile, "https://evil.example") == 0
    nul = _vote(hostile, "null")  # a sandboxed frame or a data: page
    assert nul.status_code == 403 and _stored(hostile, "null") == 0
    assert _vote(hostile, "http://[::1").status_code == 403  # not even a URL: refused, not a 500


def test_votes_from_the_site_itself_its_widget_origins_and_scripts_are_taken(hostile):
    assert _vote(hostile, "https://widget.example").status_code == 200  # in BEACON_CORS_ORIGINS
    own = _vote(hostile, hostile.url, accept="text/html")  # the page's own no-JavaScript form
    assert own.status_code == 303, own.text
    assert _vote(hostile, None).status_code == 200  # a script sends no Origin
    assert _stored(hostile, "https://widget.example") == _stored(hostile, hostile.url) == _stored(hostile, None) == 1


# --- L5: feedback ids are real, and reports print no control characters --------------------------------


def test_a_vote_for_a_passage_the_index_does_not_have_is_a_422(hostile):
    data = {"q": QUESTION, "passage": "\x1b[31mnot/a#passage", "helpful": "no"}
    r = httpx.post(hostile.url + "/api/feedback", data=data, headers={"Accept": "application/json"})
    assert r.status_code == 422 and "not a passage" in r.json()["detail"], r.text


def test_beacon_report_prints_no_escape_sequences(tmp_path):
    from service.cli import main
    from service.querylog import CuratorLog

    log = CuratorLog(tmp_path / "log.sqlite", retention_days=30)
    for _ in range(2):
        log.record_feedback(f"notes {ESC_TEXT}", f"notes/{ESC_TEXT}#top", "result", False, "en")
        log.record_asked(f"notes {ESC_TEXT}", answered=False)
        log.record_unanswered(f"notes {ESC_TEXT}", 0.1)
    for command in ("unhelpful", "asked", "gaps"):
        result = CliRunner().invoke(
            main, ["report", command, "--days", "1"], env={"BEACON_QUERY_LOG_PATH": str(tmp_path / "log.sqlite")}
        )
        assert result.exit_code == 0, result.output
        assert "\x1b" not in result.output and "\x07" not in result.output, command
        # Shown, escaped, so the curator sees it (reports group questions case-insensitively).
        assert "clear\\x1b[2j\\x1b]0;owned\\x07screen" in result.output.lower(), command


# --- L6: the language switch stays on this site ---------------------------------------------------------


@pytest.mark.parametrize("path", ["//evil.example/x", "///evil.example/x", "/\\evil.example/x", "/%5Cevil.example/x"])
def test_the_language_switch_on_a_404_page_links_to_this_site(hostile, path):
    host, port = hostile.url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    conn.request("GET", path)  # sent as written: no client-side normalisation
    r = conn.getresponse()
    page = r.read().decode()
    conn.close()
    assert r.status == 404
    href = re.search(r'<a class="lang-switch" href="([^"]+)"', page).group(1)
    assert href.startswith("/") and not href.startswith(("//", "/\\")) and "\\" not in href, href
    assert "lang=zh" in href


# --- L9: /healthz is minimal for strangers -------------------------------------------------------------


def test_healthz_shows_strangers_only_status_version_and_size(hostile):
    health = httpx.get(hostile.url + "/healthz").json()
    assert set(health) == {"status", "version", "chunks", "ready"}, health
    assert health["status"] == "ok" and health["version"].startswith("v") and health["chunks"] >= 2
    for asked in ("/healthz?verbose=1", "/healthz?verbose=true"):
        refused = httpx.get(hostile.url + asked)
        assert refused.status_code == 401 and "Bearer" in refused.json()["detail"]
    wrong = httpx.get(hostile.url + "/healthz?verbose=1", headers={"Authorization": "Bearer nope-nope-nope"})
    assert wrong.status_code == 403


def test_healthz_verbose_with_the_admin_token_shows_the_manifest(hostile):
    full = httpx.get(hostile.url + "/healthz?verbose=1", headers={"Authorization": f"Bearer {hostile.token}"})
    assert full.status_code == 200
    body = full.json()
    assert body["index"]["chunk_count"] == body["chunks"] and body["index"]["model"] == "all-MiniLM-L6-v2"
    assert body["index"]["versions"] and "remote" in body


def test_healthz_verbose_without_an_admin_token_configured_is_refused(guide_index, embedder):
    from service.app import create_app

    with TestClient(create_app(make_settings(guide_index, GUIDE_CORPUS), embedder=embedder), base_url=LOCAL) as c:
        r = c.get("/healthz?verbose=1")
    assert r.status_code == 404 and "BEACON_ADMIN_TOKEN" in r.json()["detail"]


@pytest.mark.browser
def test_in_a_browser_the_pages_own_form_votes_and_another_sites_form_does_not(browser, hostile, tmp_path):
    from tests.service.test_browser import StaticSite

    context = browser.new_context(java_script_enabled=False)  # the page's form as it works without JavaScript
    context.set_default_timeout(30_000)
    page = context.new_page()
    try:
        page.goto(hostile.url + "/?" + str(httpx.QueryParams({"q": QUESTION})))
        page.locator("form.feedback").first.locator("button[value=yes]").click()
        page.wait_for_url(re.compile(r"thanks=1"))
        assert page.locator("#thanks").is_visible()

        # Someone else's page with a form that votes on the reader's behalf.
        passage = httpx.get(hostile.url + "/api/search", params={"q": QUESTION}).json()["results"][0]["id"]
        (tmp_path / "vote.html").write_text(
            f'<form method="post" action="{hostile.url}/api/feedback"><input name="q" value="forged vote">'
            f'<input name="passage" value="{passage}"><button name="helpful" value="no">go</button></form>'
        )
        with StaticSite(tmp_path) as other:
            page.goto(other.url + "/vote.html")
            with page.expect_response(hostile.url + "/api/feedback") as answer:
                page.click("button")
            assert answer.value.status == 403
    finally:
        context.close()
    assert _votes(hostile.db, "forged vote") == 0
    # With JavaScript the page sends the vote with fetch(): same origin, taken as well.
    voted = _votes(hostile.db, QUESTION)
    assert voted >= 1
    context = browser.new_context()
    context.set_default_timeout(30_000)
    page = context.new_page()
    try:
        page.goto(hostile.url + "/?" + str(httpx.QueryParams({"q": QUESTION})))
        # M2 as a reader sees it: the hostile tag is a chip's words, not a link.
        assert page.locator("a[href*='evil.example']").count() == 0
        assert "<a href=https://evil.example/login>sign in</a>" in page.locator("form.filters").inner_text()
        with page.expect_response(hostile.url + "/api/feedback") as answer:
            page.locator(".feedback button[value=no]").first.click()
        assert answer.value.status == 200
    finally:
        context.close()
    assert _votes(hostile.db, QUESTION) == voted + 1


def _votes(db_path, question: str) -> int:
    with sqlite3.connect(db_path) as db:
        return db.execute("SELECT count(*) FROM feedback WHERE question = ?", (question,)).fetchone()[0]
