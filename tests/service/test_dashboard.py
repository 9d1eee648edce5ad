"""The curators' dashboard (/admin) and `beacon report --html`, on a real server with the real model: the
unanswered questions grouped by meaning, sign-in and its cookie, the lockout shared with the API's
admin routes, CSV downloads, and the page in chromium (screenshots, axe) at 360 and 1280 px, light and dark."""

from __future__ import annotations

import csv
import io
import itertools
import re
import time

import httpx
import pytest

from tests.helpers import ROOT, LiveServer, make_settings

TOKEN = "curators-token-for-the-dashboard-tests-0123456789"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"

# Three topics the default corpus does not cover, four phrasings each, in English and in Chinese.
TOPICS = {
    ("parking", "en"): [
        "where can I park my car at the hospital",
        "is there parking near the hospital",
        "how much does hospital parking cost",
        "hospital car park fees",
    ],
    ("insurance", "en"): [
        "does insurance cover thyroid cancer treatment",
        "will my health insurance pay for radioactive iodine",
        "how do I claim insurance for surgery",
        "insurance reimbursement for thyroid surgery",
    ],
    ("pets", "en"): [
        "can I be near my cat after iodine therapy",
        "is my dog safe after radioactive iodine",
        "should I keep away from pets after I-131",
        "how long until I can hug my cat after treatment",
    ],
    ("parking", "zh"): ["医院附近哪里可以停车", "医院停车场收费多少", "去医院开车停车方便吗", "医院有没有停车位"],
    ("insurance", "zh"): [
        "甲状腺癌治疗医保能报销吗",
        "碘131治疗医保报销多少",
        "手术费用医保怎么报销",
        "异地就医医保报销流程",
    ],
    ("pets", "zh"): [
        "碘131治疗后能抱宠物吗",
        "放射碘治疗后可以接触宠物狗吗",
        "碘131后多久能和宠物在一起",
        "治疗期间家里宠物怎么办",
    ],
}
ANSWERED = "where can I talk to people about I-131"
UNHELPFUL_PASSAGE = "online/mi-jian#what-you-will-find-on-mi-jian"


def seed(path) -> None:
    """A month of readers, written through the store the service writes with."""
    from service.querylog import DAY, CuratorLog

    log = CuratorLog(path, retention_days=30)
    now = time.time()
    for n, ((topic, _lang), questions) in enumerate(TOPICS.items()):
        for m, q in enumerate(questions):
            for repeat in range(1 + (topic == "parking") + (m == 0)):  # parking asked most: the biggest group
                when = now - ((n * 4 + m + repeat * 3) % 20) * DAY
                log.record_asked(q, answered=False, filters=("online",) if m == 0 else (), now=when)
                log.record_unanswered(q, 0.2, now=when)
    for day in range(14):
        for _ in range(day % 4 + 1):
            log.record_asked(ANSWERED, answered=True, now=now - day * DAY)
    log.record_feedback(ANSWERED, UNHELPFUL_PASSAGE, "answer", False, "en", now=now - DAY)
    log.record_feedback(ANSWERED, UNHELPFUL_PASSAGE, "answer", False, "en", now=now - 2 * DAY)
    log.record_feedback(ANSWERED, "online/mi-jian", "result", True, "en", now=now)


@pytest.fixture(scope="module")
def server(default_index, embedder, tmp_path_factory):
    from service.app import create_app

    log = tmp_path_factory.mktemp("dashboard") / "log.sqlite"
    seed(log)
    app = create_app(make_settings(default_index, query_log_path=log, admin_token=TOKEN), embedder=embedder)
    with LiveServer(app) as s:
        s.log = log
        yield s


def sign_in(client: httpx.Client, token: str = TOKEN, **params) -> httpx.Response:
    return client.post("/admin/sign-in", params=params, data={"token": token}, follow_redirects=False)


def cookie(value: str) -> dict:
    return {"Cookie": f"beacon_admin={value}"}


def session_cookie(response: httpx.Response) -> str:
    return re.match(r"beacon_admin=([^;]+)", response.headers["set-cookie"]).group(1)


@pytest.fixture
def http(server):
    with httpx.Client(base_url=server.url, timeout=60) as c:
        yield c


# --- grouping -------------------------------------------------------------------------------------


def test_questions_on_three_topics_in_two_languages_form_one_group_per_topic_and_language(embedder):
    from service.clusters import Asked, group_questions

    asked = [Asked(q, 1) for questions in TOPICS.values() for q in questions]
    groups = group_questions(asked, embedder.encode)
    found = {frozenset(q.question for q in g.questions) for g in groups}
    assert found == {frozenset(qs) for qs in TOPICS.values()}
    assert {g.languages for g in groups} == {("en",), ("zh",)}


# --- sign-in, the cookie, sign-out, the lockout -----------------------------------------------------


def test_sign_in_sets_a_strict_session_cookie_scoped_to_admin(http):
    page = http.get("/admin")
    assert page.status_code == 200 and 'name="token" type="password"' in page.text
    assert "set-cookie" not in page.headers and "set-cookie" not in http.get("/").headers
    r = sign_in(http)
    assert r.status_code == 303 and r.headers["location"] == "/admin"
    attributes = {a.strip().lower() for a in r.headers["set-cookie"].split(";")[1:]}
    assert {"secure", "httponly", "samesite=strict", "path=/admin"} <= attributes
    value = session_cookie(r)
    assert TOKEN not in value and TOKEN not in r.headers["location"]
    board = http.get("/admin", headers=cookie(value))
    assert board.status_code == 200 and "Unanswered questions, grouped by meaning" in board.text
    assert board.headers["cache-control"] == "no-store"
    assert "'unsafe-inline'" not in board.headers["content-security-policy"]
    assert ' style="' not in board.text, "the CSP forbids inline style: charts take colours from classes"
    forged = value[:-4] + ("0000" if not value.endswith("0000") else "1111")
    assert 'name="token"' in http.get("/admin", headers=cookie(forged)).text


def test_sign_out_ends_the_session(http):
    value = session_cookie(sign_in(http))
    r = http.post("/admin/sign-out", headers=cookie(value), follow_redirects=False)
    assert r.status_code == 303
    assert "max-age=0" in r.headers["set-cookie"].lower() and "path=/admin" in r.headers["set-cookie"].lower()
    # The old value, replayed, no longer opens the dashboard (in this worker: see docs/dashboard.md).
    again = http.get("/admin", headers=cookie(value))
    assert 'name="token"' in again.text and "grouped by meaning" not in again.text


def test_wrong_token_and_lockout_behave_as_the_api_admin_routes(default_index, embedder, tmp_path, caplog):
    from service.app import create_app

    app = create_app(
        make_settings(default_index, query_log_path=tmp_path / "log.sqlite", admin_token=TOKEN), embedder=embedder
    )
    with LiveServer(app) as s, httpx.Client(base_url=s.url, timeout=60) as c:

        def api(token: str) -> httpx.Response:
            return c.get("/admin/status", headers={"Authorization": f"Bearer {token}"} if token else {})

        assert sign_in(c, "").status_code == 401 and api("").status_code == 401
        wrong = sign_in(c, "not-the-token")
        assert wrong.status_code == 403 == api("not-the-token").status_code
        assert "That is not the admin token." in wrong.text and "set-cookie" not in wrong.headers
        # Failures through the form and the API count in one bucket per address (10 at once), then 429.
        for n in range(8):
            assert (sign_in(c, "guess") if n % 2 else api("guess")).status_code in (403, 429)
        locked = sign_in(c, "guess-again")
        assert locked.status_code == 429 and locked.headers["retry-after"] == "60"
        assert "Wait a minute" in locked.text
        assert api(TOKEN).status_code == 429, "the API's admin routes are locked for this address too"
        assert sign_in(c, TOKEN).status_code == 429, "even the right token waits out the lockout"
        assert sign_in(c, TOKEN, lang="zh").text.count("请等一分钟") == 1
    assert TOKEN not in caplog.text and "guess" not in caplog.text


def test_csv_downloads_are_for_signed_in_curators_only(http):
    assert http.get("/admin/csv/most-asked.csv").status_code == 401
    value = session_cookie(sign_in(http))
    r = http.get("/admin/csv/most-asked.csv", headers=cookie(value))
    assert r.status_code == 200 and r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.headers["content-disposition"] == 'attachment; filename="beacon-most-asked.csv"'
    assert r.headers["cache-control"] == "no-store"
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0] == ["times", "share_answered", "question"]
    assert rows[1] == ["33", "1.00", ANSWERED.lower()]  # 14 days of 1, 2, 3, 4, 1, ... a day
    groups = list(
        csv.DictReader(
            io.StringIO(http.get("/admin/csv/unanswered-groups.csv", headers=cookie(value)).content.decode("utf-8-sig"))
        )
    )
    assert len(groups) == 6 and groups[0]["examples"].startswith("where can i park my car at the hospital")
    assert all(g["nearest_link"].startswith("/source/") for g in groups)
    filters = http.get("/admin/csv/filters.csv", headers=cookie(value)).content.decode("utf-8-sig")
    assert filters.splitlines()[1] == "online,14"  # first phrasings: parking 3 times, the others twice
    assert http.get("/admin/csv/secrets.csv", headers=cookie(value)).status_code == 404


def test_an_unhelpful_vote_links_to_its_passage(http):
    value = session_cookie(sign_in(http))
    board = http.get("/admin", headers=cookie(value)).text
    link = "/source/online/mi-jian#what-you-will-find-on-mi-jian"
    assert f'<a href="{link}">{UNHELPFUL_PASSAGE}</a>' in board
    source = http.get(link.split("#")[0])
    assert source.status_code == 200 and 'id="what-you-will-find-on-mi-jian"' in source.text


def test_searches_log_the_names_of_the_filters_they_use(http, server):
    from service.querylog import filter_counts

    before = dict(filter_counts(server.log, days=30))
    assert http.get("/api/search", params={"q": ANSWERED, "tag": ["tips", "online"]}).status_code == 200
    after = dict(filter_counts(server.log, days=30))
    assert after["tips"] == before.get("tips", 0) + 1 and after["online"] == before["online"] + 1


# --- the page in chromium ---------------------------------------------------------------------------

RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.filter(v => v.impact === "serious" || v.impact === "critical").map(v =>
    `${v.impact} ${v.id} (${v.help}): ` + v.nodes.slice(0, 3).map(n => n.target.join(" ")).join("; "));
}"""
VIEWS = list(itertools.product(["light", "dark"], [360, 1280], ["en", "zh"]))


def open_dashboard(browser, server, scheme: str, width: int, lang: str, **options):
    """A fresh chromium context signed in through the form; returns (context, page)."""
    context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme, **options)
    page = context.new_page()
    page.goto(f"{server.url}/admin?lang={lang}")
    page.fill("#token", TOKEN)
    page.click(".sign-in button[type=submit]")
    page.wait_for_selector(".groups")
    return context, page


@pytest.mark.parametrize("scheme, width, lang", VIEWS, ids=[f"{s}-{w}-{l}" for s, w, l in VIEWS])
def test_dashboard_in_chromium_without_javascript(browser, server, artifacts, scheme, width, lang):
    # No JavaScript: the page is server-rendered and its forms post.
    context, page = open_dashboard(browser, server, scheme, width, lang, java_script_enabled=False)
    try:
        cookie = next(c for c in context.cookies() if c["name"] == "beacon_admin")
        assert (cookie["secure"], cookie["httpOnly"], cookie["sameSite"], cookie["path"]) == (
            True,
            True,
            "Strict",
            "/admin",
        )
        assert page.get_attribute("html", "lang") == ("zh-Hans" if lang == "zh" else "en")
        assert page.locator(".group").count() == 6
        assert page.locator(".group").first.locator(".examples li").first.text_content() == (
            "where can i park my car at the hospital"
        )
        assert page.locator("svg.chart").count() == 2
        assert page.evaluate("document.documentElement.scrollWidth") <= width, "no sideways scrolling"
        page.screenshot(path=str(artifacts / f"dashboard-{lang}-{width}-{scheme}.png"), full_page=True)
        page.click(".sign-out button")
        page.wait_for_selector("#token")
        assert not [c for c in context.cookies() if c["name"] == "beacon_admin"]
    finally:
        context.close()


@pytest.mark.parametrize("scheme, width, lang", VIEWS, ids=[f"{s}-{w}-{l}" for s, w, l in VIEWS])
def test_axe_finds_nothing_serious_on_the_dashboard(browser, server, scheme, width, lang):
    if not AXE.exists():
        pytest.fail(f"{AXE.relative_to(ROOT)} is missing: run `make node` (npm ci) in the repository root")
    # bypass_csp: axe is injected as an inline script, which the page's CSP rightly refuses.
    context, page = open_dashboard(browser, server, scheme, width, lang, bypass_csp=True)
    try:
        axe = AXE.read_text(encoding="utf-8")
        page.add_script_tag(content=axe)
        problems = [f"dashboard: {p}" for p in page.evaluate(RUN_AXE)]
        page.click(".sign-out button")
        page.wait_for_selector("#token")
        page.add_script_tag(content=axe)
        problems += [f"sign-in form: {p}" for p in page.evaluate(RUN_AXE)]
        assert problems == [], "\n".join(problems)
    finally:
        context.close()


# --- beacon report --html -----------------------------------------------------------------------------


def test_beacon_report_html_is_one_self_contained_file_with_the_groups(server, default_index, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from service.cli import main

    out = tmp_path / "report.html"
    monkeypatch.setenv("BEACON_QUERY_LOG_PATH", str(server.log))
    result = CliRunner().invoke(main, ["report", "--index", str(default_index), "--html", str(out), "--lang", "zh"])
    assert result.exit_code == 0, result.output
    assert "6 groups" in result.output
    html = out.read_text(encoding="utf-8")
    for questions in TOPICS.values():
        assert questions[0].lower() in html
    assert "按意思分组" in html and '<html lang="zh-Hans">' in html
    assert html.count("<svg") == 2 and "<style>" in html
    # Nothing to fetch: no stylesheet, script, image or font from anywhere, and no CSV links to a server.
    for reference in ("<link", "<script", "<img", " src=", "url(", "@import", "/static/", "/admin/csv"):
        assert reference not in html, reference
    assert not re.findall(r"https?://", html), "a file that is read away from the service links nowhere"


def test_csv_cells_a_spreadsheet_would_run_as_formulas_are_quoted():
    from service.report import to_csv

    rows = list(csv.reader(io.StringIO(to_csv(["question"], [('=HYPERLINK("x")',), ("-2+3",), ("@sum",), ("I-131",)]))))
    assert [r[0] for r in rows[1:]] == ['\'=HYPERLINK("x")', "'-2+3", "'@sum", "I-131"]
