"""The question page and the embeddable widget in Debian's chromium, against real servers on the small test
guide (tests/fixtures/guide); the screenshots show the shipped guide, as readers see it.

The widget is tested from a page on a second local port, which the browser treats as another origin,
so CORS, absolute permalinks and the shadow root's isolation from host CSS are all exercised for real.
"""

from __future__ import annotations

import functools
import http.server
import re
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs, unquote, urljoin, urlsplit

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.helpers import GUIDE_CORPUS, LiveServer, free_port, make_settings, write_corpus

pytestmark = pytest.mark.server  # starts real uvicorn servers

EXAMPLE = "where can I talk to people about H-alpha"
# Corrected, with an answer, and passages that are less related.
LABELLED = "solar telescpe filters"
# Runs in the page if any payload ever becomes markup; the tests then find window.__pwned set.
PAYLOAD_SCRIPT = "<script>window.__pwned = 1</script>"
PAYLOAD_IMG = '"><img src=x onerror="window.__pwned = 1">'
# Host-page CSS aimed at everything the widget draws: none of it may reach inside the shadow root.
HOSTILE_CSS = """
input, mark, a, li, p, ol { border: 4px dashed red !important; background: red !important;
  text-transform: uppercase !important; display: inline !important; font-size: 40px !important; }
"""


def _new_page(browser, **options) -> Page:
    context = browser.new_context(**options)
    context.set_default_timeout(30_000)
    page = context.new_page()
    page.on("dialog", lambda d: (_dialogs.append(d.message), d.dismiss()))
    return page


_dialogs: list[str] = []


@pytest.fixture
def page(browser):
    _dialogs.clear()
    p = _new_page(browser, viewport={"width": 1280, "height": 900})
    yield p
    p.context.close()
    assert not _dialogs, f"a dialog fired: {_dialogs}"


class StaticSite:
    """Someone else's site: a plain http.server on another port, i.e. another origin for the browser."""

    def __init__(self, root: Path):
        handler = functools.partial(_QuietHandler, directory=str(root))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def host_page(beacon_url: str, extra: str = "") -> str:
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="color-scheme" content="light dark">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>A patient charity</title><style>{HOSTILE_CSS}</style>
<script src="{beacon_url}/widget.js" defer></script></head>
<body><h1>A patient charity</h1>
<beacon-search id="inline" placeholder="Search our guide" max-results="4"></beacon-search>
<beacon-search id="modal" mode="modal" label="Search the guide"></beacon-search>
{extra}
</body></html>"""


def csp_page(beacon_url: str) -> str:
    """A host page with the strict policy the README recommends: only Beacon's origin for script and fetch."""
    policy = f"default-src 'none'; script-src {beacon_url}; connect-src {beacon_url}"
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{policy}">
<title>Strict host</title><script src="{beacon_url}/widget.js" defer></script></head>
<body><beacon-search id="inline"></beacon-search></body></html>"""


def widgets_page(beacon_url: str, title: str, widgets: str) -> str:
    """A bare host page: Beacon's script tag and the given <beacon-search> elements, nothing else."""
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<script src="{beacon_url}/widget.js" defer></script></head><body>
{widgets}</body></html>"""


def test_only_the_question_a_reader_settles_on_reaches_the_report(browser, guide_index, embedder, tmp_path):
    from service.app import create_app
    from service.querylog import report_asked

    db = tmp_path / "gaps.sqlite"

    def asked_settles_at(expected: dict) -> None:
        # Polled, not one fixed wait: the page records 2 s after the last key, later on a loaded machine.
        deadline = time.monotonic() + 20
        while (asked := {a.question: a.times for a in report_asked(db, days=1)}) != expected:
            assert all(asked.get(q, 0) <= n for q, n in expected.items()), asked  # counted too often
            assert time.monotonic() < deadline, asked
            time.sleep(0.2)
        page.wait_for_timeout(2500)  # and stays there: no late second count
        assert {a.question: a.times for a in report_asked(db, days=1)} == expected

    settings = make_settings(guide_index, GUIDE_CORPUS, query_log_path=db)
    with LiveServer(create_app(settings, embedder=embedder)) as server:
        page = _new_page(browser)
        try:
            page.goto(server.url + "/")
            # Pauses longer than the debounce: every fragment is searched and shown on the way.
            page.locator("#q").press_sequentially(EXAMPLE, delay=300)
            expect(page.locator(".answer mark", has_text="H-alpha").first).to_be_visible()
            asked_settles_at({EXAMPLE.lower(): 1})  # the reader reads; the page counts the question once
            page.locator("#q").press("Enter")  # asking again on purpose counts again
            asked_settles_at({EXAMPLE.lower(): 2})

            root = tmp_path / "host"
            root.mkdir()
            (root / "index.html").write_text(host_page(server.url), encoding="utf-8")
            with StaticSite(root) as site:
                page.goto(site.url + "/index.html")
                widget_input(page).press_sequentially("who runs Skyglass", delay=300)
                expect(page.locator("beacon-search#inline li").first).to_be_visible()
                asked_settles_at({EXAMPLE.lower(): 2, "who runs skyglass": 1})
        finally:
            page.context.close()


def host_pages(beacon_url: str, root: Path) -> StaticSite:
    (root / "index.html").write_text(host_page(beacon_url), encoding="utf-8")
    (root / "csp.html").write_text(csp_page(beacon_url), encoding="utf-8")
    return StaticSite(root)


@pytest.fixture(scope="session")
def host_site(guide_server, tmp_path_factory):
    with host_pages(guide_server.url, tmp_path_factory.mktemp("host-site")) as site:
        yield site


@pytest.fixture(scope="session")
def shipped_host_site(live_server, tmp_path_factory):
    """The widget of the shipped guide, for its screenshots."""
    with host_pages(live_server.url, tmp_path_factory.mktemp("shipped-host-site")) as site:
        yield site


def widget_input(page: Page, which: str = "#inline"):
    return page.locator(f"beacon-search{which} input")


# --- the page -----------------------------------------------------------------------------------------


def test_page_without_javascript_renders_results_on_submit(browser, guide_server):
    page = _new_page(browser, java_script_enabled=False)
    try:
        page.goto(guide_server.url + "/")
        page.fill("#q", EXAMPLE)
        page.click("button[type=submit]")
        page.wait_for_url(re.compile(r"\?q="))
        expect(page.locator(".answer .answer-text")).to_be_visible()
        expect(page.locator(".answer mark", has_text="H-alpha").first).to_be_visible()
        assert page.locator("ol.results > li.doc").count() >= 1
        assert "H-alpha" in page.locator(".passage").first.inner_text() + page.locator(".answer").inner_text()
        assert page.locator(".links a[href^='http']").count() >= 1, "external links are shown"
        expect(page.locator("#status")).to_contain_text("passage")
        cite = page.locator(".answer .cite a")
        href = cite.get_attribute("href")
        cite.click()
        page.wait_for_url(re.compile(r"/source/"))
        assert page.url.endswith(href)
        expect(page.locator(f"[id='{href.split('#')[1]}']")).to_be_visible()
    finally:
        page.context.close()


def test_page_with_javascript_searches_as_you_type_without_reloading(page, guide_server):
    page.goto(guide_server.url + "/")
    page.evaluate("window.__samePage = true")  # a page load would drop it
    searches = []
    page.on("request", lambda r: r.resource_type == "fetch" and "?q=" in r.url and searches.append(r.url))
    page.locator("#q").press_sequentially(EXAMPLE)
    expect(page.locator(".answer mark", has_text="H-alpha").first).to_be_visible()
    expect(page.locator("#status")).to_have_text(re.compile(r"^\d+ passages? from \d+ sources?$"))
    assert page.evaluate("window.__samePage") is True, "results appear without a page load"
    # Debounced: one keystroke after another does not each cost a request.
    assert 1 <= len(searches) < len(EXAMPLE) / 3, searches
    assert "H-alpha" in searches[-1].replace("%20", " ").replace("+", " ")
    assert page.url.endswith("?q=" + EXAMPLE.replace(" ", "%20")), "the address stays shareable"
    # Grouped by document, with the same citation links as the server-rendered page.
    docs = page.locator("ol.results > li.doc")
    assert docs.count() >= 1
    assert page.locator(".passage .cite a[href^='/source/']").count() >= 1
    assert page.locator(".links a[href^='http']").count() >= 1


def test_page_js_results_match_server_rendered_ones(page, guide_server):
    page.goto(guide_server.url + "/?q=" + EXAMPLE)
    server_cites = page.locator("a[data-nav]").evaluate_all("els => els.map(e => e.getAttribute('href'))")
    page.goto(guide_server.url + "/")
    page.fill("#q", EXAMPLE)
    expect(page.locator(".answer")).to_be_visible()
    client_cites = page.locator("a[data-nav]").evaluate_all("els => els.map(e => e.getAttribute('href'))")
    assert client_cites == server_cites


# What a reader sees of the results: the spelling notice, the answer, and per passage its document,
# section, "Less related" label and the answer marked inside it.
SHOWN = """r => ({
  status: document.getElementById('status').textContent,
  corrected: [...r.querySelectorAll('.corrected')].map(e => e.textContent.trim()),
  answer: [...r.querySelectorAll('.answer .answer-text')].map(e => e.textContent),
  passages: [...r.querySelectorAll('.passage')].map(p => [
    p.closest('.doc').querySelector('h2').textContent, p.querySelector('h3')?.textContent ?? null,
    [...p.querySelectorAll('.weak-label')].map(e => e.textContent),
    [...p.querySelectorAll('.answer-span')].map(e => e.textContent)]),
  html: r.innerHTML,
})"""


def _typed_until_shown(page: Page, question: str):
    """Types like a reader and waits for the page fetched for the whole question to be on screen."""

    def for_whole_question(r):
        return r.request.resource_type == "fetch" and parse_qs(urlsplit(r.url).query).get("q") == [question]

    with page.expect_response(for_whole_question):
        page.locator("#q").press_sequentially(question)
    expect(page.locator("#results")).to_have_attribute("aria-busy", "false")


@pytest.mark.parametrize(
    "question",
    [
        "telescpe astronmy gruop",  # corrected, with an answer
        LABELLED,
    ],
)
def test_page_with_javascript_shows_exactly_what_the_server_renders(browser, page, guide_server, question):
    plain = _new_page(browser, java_script_enabled=False)
    try:
        plain.goto(guide_server.url + "/?q=" + question)
        server = plain.locator("#results").evaluate(SHOWN)
    finally:
        plain.context.close()
    # The question's features are there to compare; otherwise this test would prove nothing.
    assert server["corrected"] and server["corrected"][0].startswith("Searched for "), server["corrected"]
    assert any(span for *_, span in server["passages"]), "the answer is marked in its passage"
    if question == LABELLED:
        assert any(weak == ["Less related"] for _, _, weak, _ in server["passages"]), server["passages"]

    problems = []
    page.on("console", lambda m: "Content Security Policy" in m.text and problems.append(m.text))
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(guide_server.url + "/")
    _typed_until_shown(page, question)
    expect(page.locator("#results .corrected")).to_contain_text("Searched for")
    expect(page.locator("#results .passage .answer-span").first).to_be_visible()
    client = page.locator("#results").evaluate(SHOWN)
    assert {k: v for k, v in client.items() if k != "html"} == {k: v for k, v in server.items() if k != "html"}
    assert client["html"] == server["html"], "the same markup, not just the same words"
    assert problems == [], problems
    # The notice's link searches for the corrected question.
    corrected = page.locator("#results .corrected a").inner_text()
    page.locator("#results .corrected a").click()
    page.wait_for_url(re.compile(r"\?q="))
    assert page.locator("#q").input_value() == corrected


def test_page_shows_the_rate_limit_reason_when_searches_are_refused(browser, guide_index, embedder):
    from service.app import create_app

    # One search a minute, and the page loaded with a question takes it (the bare page takes none since
    # issue 15): the first search typed is refused.
    settings = make_settings(guide_index, GUIDE_CORPUS, rate_limit_per_minute=1, rate_limit_burst=1)
    with LiveServer(create_app(settings, embedder=embedder)) as server:
        page = _new_page(browser)
        try:
            page.goto(server.url + "/?q=telescope")
            page.locator("#q").fill(EXAMPLE)
            expect(page.locator("#results .error[role=alert]")).to_contain_text("too many searches")
            expect(page.locator("#status")).to_have_text("")
        finally:
            page.context.close()


def test_a_slow_typist_is_not_rate_limited(browser, guide_index, embedder):
    from service.app import create_app
    from service.settings import Settings

    defaults = {name: Settings.model_fields[name].default for name in ("rate_limit_per_minute", "rate_limit_burst")}
    question = "where can I talk to others about H-alpha"
    assert len(question) == 40, len(question)
    with LiveServer(create_app(make_settings(guide_index, GUIDE_CORPUS, **defaults), embedder=embedder)) as server:
        page = _new_page(browser)
        try:
            page.goto(server.url + "/")
            # A pause longer than the debounce after every key: each keystroke starts a search, the worst case.
            page.locator("#q").press_sequentially(question, delay=300)
            expect(page.locator(".answer mark", has_text="H-alpha").first).to_be_visible()
            # Counted by the server, so searches the page aborted before their answer count too.
            metrics = httpx.get(server.url + "/metrics").text
            searches = re.search(r"^beacon_searches_total (\S+)", metrics, re.M).group(1)
            assert 'status="429"' not in metrics, f"refused during {searches} searches"
        finally:
            page.context.close()


def test_page_no_answer_and_error_states(page, guide_server):
    page.goto(guide_server.url + "/")
    page.fill("#q", "how to bake sourdough bread")
    expect(page.locator(".no-answer")).to_be_visible()
    expect(page.locator(".no-answer .topics a[href^='/source/']").first).to_be_visible()
    # NFKC turns each U+FDFA into 18 characters, so this passes the box's maxlength and the server
    # refuses it: the page must show the server's reason, not stale results.
    page.fill("#q", "\ufdfa" * 40)
    expect(page.locator("#results .error[role=alert]")).to_contain_text("limit is 512")
    expect(page.locator(".no-answer")).to_have_count(0)
    page.fill("#q", "")
    expect(page.locator(".intro")).to_be_visible()
    assert page.url.endswith("/")


def test_keyboard_slash_arrows_and_enter(page, guide_server):
    page.goto(guide_server.url + "/?q=" + EXAMPLE)
    page.locator(".tagline").click()  # focus outside the box, as a reader arriving would be
    page.keyboard.press("/")
    expect(page.locator("#q")).to_be_focused()
    assert page.locator("#q").input_value() == EXAMPLE, "/ is not typed into the box"
    items = page.locator("#results a[data-nav]")
    assert items.count() >= 2
    page.keyboard.press("ArrowDown")
    expect(items.nth(0)).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(items.nth(1)).to_be_focused()
    outline = items.nth(1).evaluate("e => getComputedStyle(e).outlineStyle + ' ' + getComputedStyle(e).outlineWidth")
    assert not outline.startswith("none") and not outline.endswith(" 0px"), f"focus is visible: {outline}"
    page.keyboard.press("ArrowUp")
    expect(items.nth(0)).to_be_focused()
    page.keyboard.press("ArrowUp")
    expect(page.locator("#q")).to_be_focused()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    href = items.nth(1).get_attribute("href")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/source/"))
    assert page.url == guide_server.url + href
    assert page.evaluate("document.querySelector(':target') !== null"), "the passage is the :target"


# The screenshots show the shipped guide (the README's picture is one), so they ask it its own questions.
SHIPPED_EXAMPLE = "where can I talk to people about I-131"
SHIPPED_LABELLED = "low iodin diet recipes"  # the spelling notice, the answer in its passage, less related results


def test_page_screenshots_phone_desktop_and_dark(browser, live_server, artifacts):
    labelled = SHIPPED_LABELLED
    shots = [
        ("page-360.png", 360, "light", SHIPPED_EXAMPLE),
        ("page-1280.png", 1280, "light", SHIPPED_EXAMPLE),
        ("page-360-dark.png", 360, "dark", SHIPPED_EXAMPLE),
        ("page-1280-dark.png", 1280, "dark", SHIPPED_EXAMPLE),
        ("page-360-labels.png", 360, "light", labelled),
        ("page-1280-labels.png", 1280, "light", labelled),
    ]
    for name, width, scheme, question in shots:
        page = _new_page(browser, viewport={"width": width, "height": 800}, color_scheme=scheme)
        try:
            page.goto(live_server.url + "/")
            page.fill("#q", question)
            expect(page.locator(".answer")).to_be_visible()
            if question == labelled:
                expect(page.locator(".corrected")).to_be_visible()
                expect(page.locator(".weak-label").first).to_be_visible()
            expect(page.locator("#results")).to_have_attribute("aria-busy", "false")
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, f"{name}: the page scrolls sideways by {overflow}px"
            bg = page.evaluate("getComputedStyle(document.body).backgroundColor")
            dark = sum(int(c) for c in re.findall(r"\d+", bg)[:3]) < 3 * 128
            assert dark == (scheme == "dark"), f"{name}: background {bg} for a {scheme} scheme"
            page.screenshot(path=str(artifacts / name), full_page=True)
        finally:
            page.context.close()
    assert all((artifacts / name).stat().st_size > 10_000 for name, *_ in shots)


# --- the widget ---------------------------------------------------------------------------------------


def test_widget_on_another_origin_answers_with_links_to_beacon(page, guide_server, host_site):
    assert host_site.url != guide_server.url
    page.goto(host_site.url + "/")
    box = widget_input(page)
    expect(box).to_have_attribute("placeholder", "Search our guide")
    with page.expect_response(lambda r: "/api/search" in r.url) as response:
        box.press_sequentially(EXAMPLE)
    expect(page.locator("beacon-search#inline .answer mark", has_text="H-alpha").first).to_be_visible()
    assert response.value.headers.get("access-control-allow-origin") in ("*", host_site.url)
    assert "access-control-allow-credentials" not in response.value.headers
    assert "k=4" in response.value.url, "max-results is passed on"

    widget = page.locator("beacon-search#inline")
    hits = widget.locator("a.hit")
    assert 1 <= hits.count() <= 4
    for href in hits.evaluate_all("els => els.map(e => e.href)"):
        assert href.startswith(guide_server.url + "/source/") and "#" in href, href
    assert widget.locator(".answer .cite a").get_attribute("href").startswith(guide_server.url + "/source/")
    assert widget.locator(".links a[href^='http']").count() >= 1, "the documents' own links are there"
    expect(widget.locator("[role=status]")).to_contain_text("result")

    # The host's CSS stops at the shadow root.
    style = box.evaluate("e => [getComputedStyle(e).borderStyle, getComputedStyle(e).textTransform]")
    assert style == ["solid", "none"], style
    mark_bg = widget.locator("mark").first.evaluate("e => getComputedStyle(e).backgroundColor")
    assert mark_bg != "rgb(255, 0, 0)"

    # The permalink opens Beacon's page on the passage.
    first = hits.first.get_attribute("href")
    hits.first.click()
    page.wait_for_url(re.compile(re.escape(guide_server.url) + "/source/"))
    assert page.url == first
    assert page.evaluate("document.querySelector(':target') !== null")


def test_widget_shows_the_spelling_searched_and_less_related_results(page, guide_server, host_site):
    question = LABELLED
    api = httpx.get(guide_server.url + "/api/search", params={"q": question, "k": 4}).json()
    assert api["corrected"] and any(r["weak"] for r in api["results"]), "the question has both to show"
    page.goto(host_site.url + "/")
    widget = page.locator("beacon-search#inline")
    widget_input(page).fill(question)
    expect(widget.locator(".note")).to_have_text(f"Searched for {api['corrected']}.")
    hits = widget.locator("a.hit")
    expect(hits).to_have_count(len(api["results"]))
    labels = dict(hits.evaluate_all("els => els.map(e => [e.href, e.querySelector('.weak')?.textContent ?? null])"))
    # The browser percent-encodes non-ASCII anchors (#skyglass-app-观星镜) in href; the API sends them as is.
    labels = {unquote(href): label for href, label in labels.items()}
    # API urls are relative to Beacon (never built from Host); the widget resolves them against its origin.
    assert labels == {
        unquote(urljoin(guide_server.url, r["url"])): "Less related" if r["weak"] else None for r in api["results"]
    }
    color = widget.locator(".weak").first.evaluate("e => getComputedStyle(e).color")
    assert color != widget.locator(".where").first.evaluate("e => getComputedStyle(e).color"), "the label is muted"
    widget_input(page).fill(api["corrected"])
    expect(hits.first).to_be_visible()
    expect(widget.locator(".note")).to_have_count(0)


def test_widget_keyboard_and_modal_shortcut(page, host_site):
    page.goto(host_site.url + "/")
    box = widget_input(page)
    box.fill(EXAMPLE)
    widget = page.locator("beacon-search#inline")
    expect(widget.locator(".answer")).to_be_visible()
    items = widget.locator("a[data-nav]")
    box.press("ArrowDown")
    expect(items.nth(0)).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(items.nth(1)).to_be_focused()
    page.keyboard.press("Escape")
    expect(box).to_be_focused()

    modal = page.locator("beacon-search#modal")
    dialog = modal.locator("dialog")
    expect(dialog).to_be_hidden()
    expect(modal.locator("button.open")).to_contain_text("Search the guide")
    page.keyboard.press("Control+k")
    expect(dialog).to_be_visible()
    modal_box = widget_input(page, "#modal")
    expect(modal_box).to_be_focused()
    expect(modal_box).to_have_accessible_name("Search the guide")
    modal_box.press_sequentially("H-alpha log")
    expect(modal.locator("a.hit").first).to_be_visible()
    page.keyboard.press("ArrowDown")
    expect(modal.locator("a[data-nav]").first).to_be_focused()
    page.keyboard.press("Escape")  # back to the box
    page.keyboard.press("Escape")  # closes the dialog
    expect(dialog).to_be_hidden()


def test_widget_works_under_the_csp_the_readme_recommends(page, host_site):
    violations = []
    page.on("console", lambda m: "Content Security Policy" in m.text and violations.append(m.text))
    page.goto(host_site.url + "/csp.html")
    widget_input(page).fill(EXAMPLE)
    widget = page.locator("beacon-search#inline")
    expect(widget.locator(".answer mark", has_text="H-alpha").first).to_be_visible()
    radius = widget_input(page).evaluate("e => getComputedStyle(e).borderTopLeftRadius")
    assert radius not in ("", "0px"), "the widget's own stylesheet applies under style restrictions"
    assert violations == [], violations


def _is_dark(page: Page, selector: str) -> bool:
    bg = page.locator(selector).evaluate("e => getComputedStyle(e).backgroundColor")
    return sum(int(c) for c in re.findall(r"\d+", bg)[:3]) < 3 * 128


def test_widget_goes_dark_only_on_pages_that_support_dark(browser, host_site):
    page = _new_page(browser, color_scheme="dark")
    try:
        page.goto(host_site.url + "/")  # declares color-scheme: light dark
        assert _is_dark(page, "beacon-search#inline .panel")
        page.goto(host_site.url + "/csp.html")  # a light-only page
        assert not _is_dark(page, "beacon-search#inline .panel")
        page.locator("beacon-search#inline").evaluate("e => e.setAttribute('theme', 'auto')")
        assert _is_dark(page, "beacon-search#inline .panel")
    finally:
        page.context.close()


def test_widget_screenshots(browser, shipped_host_site, artifacts):
    for width, scheme, suffix, question in (
        (360, "light", "", SHIPPED_EXAMPLE),
        (1280, "light", "", SHIPPED_EXAMPLE),
        (360, "dark", "-dark", SHIPPED_EXAMPLE),
        (360, "light", "-labels", SHIPPED_LABELLED),
    ):
        page = _new_page(browser, viewport={"width": width, "height": 800}, color_scheme=scheme)
        try:
            page.goto(shipped_host_site.url + "/")
            widget_input(page).fill(question)
            expect(page.locator("beacon-search#inline .answer")).to_be_visible()
            if suffix == "-labels":  # scrolled in the result list, so the shot shows a label
                page.locator("beacon-search#inline .weak").first.scroll_into_view_if_needed()
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, f"the widget makes a {width}px page scroll sideways by {overflow}px"
            page.screenshot(path=str(artifacts / f"widget-{width}{suffix}.png"), full_page=True)
        finally:
            page.context.close()


# --- escaping -----------------------------------------------------------------------------------------

XSS_CORPUS = {
    "evil.md": f"""\
        ---
        title: '{PAYLOAD_IMG} Evil title'
        links:
          - text: '{PAYLOAD_SCRIPT}'
            url: https://example.org/evil
        tags: [test]
        last_reviewed: 2026-11-01
        ---
        Support group notes {PAYLOAD_SCRIPT} and {PAYLOAD_IMG} inside the passage text about support.

        ## {PAYLOAD_IMG} heading
        More support group text {PAYLOAD_SCRIPT} with payloads.
        """,
    "plain.md": """\
        ---
        title: Plain support group
        links: []
        tags: [test]
        last_reviewed: 2026-11-01
        ---
        A quiet support group for patients who want to talk.
        """,
}
XSS_QUERY = f"support group {PAYLOAD_SCRIPT} {PAYLOAD_IMG}"


@pytest.fixture(scope="module")
def xss_server(tmp_path_factory, embedder):
    from index import build_index
    from service.app import create_app

    root = tmp_path_factory.mktemp("xss")
    corpus = write_corpus(root / "corpus", XSS_CORPUS)
    build_index(corpus, root / "index", embedder)
    with LiveServer(create_app(make_settings(root / "index", corpus), embedder=embedder)) as server:
        (root / "site").mkdir()
        (root / "site" / "index.html").write_text(host_page(server.url), encoding="utf-8")
        with StaticSite(root / "site") as site:
            yield server, site


def assert_not_injected(page: Page, scope: str):
    assert page.evaluate("window.__pwned") is None, "a payload ran"
    injected = page.evaluate(f"""() => {{
        const roots = [document, ...[...document.querySelectorAll('beacon-search')].map(e => e.shadowRoot)];
        return roots.flatMap(r => [...r.querySelectorAll('img, {scope} script')]).length }}""")
    assert injected == 0, "no element was injected"


def test_payloads_in_corpus_and_query_render_as_text_on_the_page(browser, xss_server):
    server, _ = xss_server
    for js in (False, True):
        _dialogs.clear()
        page = _new_page(browser, java_script_enabled=js)
        try:
            page.goto(server.url + "/")
            page.fill("#q", XSS_QUERY)
            if js:
                expect(page.locator("#status")).to_contain_text("passage")
            else:
                page.click("button[type=submit]")
                page.wait_for_url(re.compile(r"\?q="))
            text = page.locator("#results").inner_text()
            assert PAYLOAD_SCRIPT in text and PAYLOAD_IMG in text, text
            assert page.locator("#q").input_value() == XSS_QUERY
            if js:
                assert_not_injected(page, "#results")
                # The source page, where the passage is read in context.
                page.locator("#results a[data-nav]", has_text="Evil title").first.click()
                page.wait_for_url(re.compile(r"/source/"))
                assert PAYLOAD_SCRIPT in page.locator("main").inner_text()
                assert_not_injected(page, "main")
            assert not _dialogs
        finally:
            page.context.close()


def test_payloads_render_as_text_in_the_widget(page, xss_server):
    server, site = xss_server
    page.goto(site.url + "/")
    widget_input(page).fill(XSS_QUERY)
    widget = page.locator("beacon-search#inline")
    expect(widget.locator("a.hit").first).to_be_visible()
    text = widget.locator(".results").inner_text()
    assert PAYLOAD_SCRIPT in text and PAYLOAD_IMG in text, text
    assert_not_injected(page, ".results")


# --- code in passages ---------------------------------------------------------------------------------

CODE_PAYLOAD = '<img src=x onerror="window.__pwned = 1"><script>window.__pwned = 1</script>'


@pytest.fixture(scope="module")
def code_server(tmp_path_factory, embedder):
    """Someone else's README folder (tests/fixtures), plus a page whose code block holds markup."""
    from index import build_index
    from ingest import Site
    from service.app import create_app

    root = tmp_path_factory.mktemp("code")
    corpus = write_corpus(
        root / "corpus",
        {
            "README.md": (Path(__file__).parent.parent / "fixtures/pyenv-virtualenv/README.md").read_text(),
            "escaping.md": f"# Escaping\n\nThe snippet below shows escaping of image tags.\n\n```html\n{CODE_PAYLOAD}\n```\n",
        },
    )
    build_index(corpus, root / "index", embedder, site=Site())
    with LiveServer(create_app(make_settings(root / "index", corpus), embedder=embedder)) as server:
        (root / "site").mkdir()
        (root / "site" / "index.html").write_text(host_page(server.url), encoding="utf-8")
        with StaticSite(root / "site") as site:
            yield server, site


def test_code_in_a_passage_shows_as_a_code_block_on_the_page_and_in_the_widget(page, code_server):
    server, site = code_server
    command = "$ pyenv virtualenv --distribute 2.7.3 venv27"
    page.goto(server.url + "/")
    page.fill("#q", "pyenv virtualenv --distribute 2.7.3 venv27")
    expect(page.locator("#results .passage-text pre code").first).to_have_text(command)
    page.goto(site.url + "/")
    widget_input(page).fill("pyenv virtualenv --distribute 2.7.3 venv27")
    widget = page.locator("beacon-search#inline")
    expect(widget.locator("a.hit pre code").first).to_have_text(command)
    expect(widget.locator(".answer pre code").first).to_contain_text("venv27")  # an answer that is code

    widget_input(page).fill("img src onerror window pwned script")
    expect(widget.locator("a.hit pre code").first).to_have_text(CODE_PAYLOAD)  # the markup, as text
    assert_not_injected(page, ".results")
    page.goto(server.url + "/?q=img+src+onerror+window+pwned+script")
    expect(page.locator("#results .passage-text pre code").first).to_have_text(CODE_PAYLOAD)
    assert_not_injected(page, "#results")
