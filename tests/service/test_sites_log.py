"""The curators' log on a server with several sites (docs/sites.md, "The curators' log"): each question,
gap and vote goes under the site it was asked on, `beacon report` and /admin show one site's rows or all
of them with their site, an old log file gains the column, and an all-sites page counts results per site.

The sites are test_sites.py's: the default guide and the small garden site, in one process."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from click.testing import CliRunner

from service.cli import main
from service.querylog import CuratorLog, filter_counts, report_asked, report_gaps, report_unhelpful
from tests.helpers import LiveServer, make_settings
from tests.service.test_dashboard import TOKEN, cookie, session_cookie, sign_in
from tests.service.test_sites import GARDEN_QUESTION, GUIDE_QUESTION, two_sites  # noqa: F401 (a fixture)

pytestmark = pytest.mark.server

# Nothing on either site answers it.
NOWHERE = "what is the price of a train ticket to Lisbon"
GARDEN_MISS = "when do apple trees blossom"  # garden-like, but the garden site has no answer


@pytest.fixture(scope="module")
def logged(two_sites, default_index, embedder, tmp_path_factory):  # noqa: F811 (the fixture above)
    """Both sites on one uvicorn with the curators' log and the dashboard on; the questions below asked
    once, on the page and the API, alone and together."""
    from service.app import create_app

    log = tmp_path_factory.mktemp("sites-log") / "log.sqlite"
    settings = make_settings(default_index, sites_file=two_sites, query_log_path=log, admin_token=TOKEN)
    with (
        LiveServer(create_app(settings, embedder=embedder)) as server,
        httpx.Client(base_url=server.url, timeout=60) as http,
    ):
        answers = {}
        for params in (
            {"q": GUIDE_QUESTION, "site": "guide"},
            {"q": GARDEN_QUESTION, "site": "garden"},
            {"q": GARDEN_MISS, "site": "garden"},
            {"q": GARDEN_QUESTION},  # all sites: the garden answers
            {"q": NOWHERE},  # all sites: none answers
        ):
            body = http.get("/api/search", params=params).json()
            answers[(params["q"], params.get("site"))] = body
        # What the tests below rely on: the garden answers its question asked of all sites, no one the others.
        assert answers[(GARDEN_QUESTION, None)]["answer"] is not None
        assert answers[(GARDEN_MISS, "garden")]["answer"] is None and answers[(NOWHERE, None)]["answer"] is None
        http.get("/", params={"q": NOWHERE, "site": "guide"})  # the page, one site of two
        server.log, server.http, server.answers, server.sites_file = log, http, answers, two_sites
        yield server


def test_each_question_and_gap_is_logged_once_under_the_site_it_was_asked_on(logged):
    # A site's curator sees what readers asked that site, and what it could not answer.
    assert {(a.question, a.site) for a in report_asked(logged.log, days=1, site="garden")} == {
        (GARDEN_QUESTION.lower(), "garden"),
        (GARDEN_MISS.lower(), "garden"),
    }
    garden_gaps = {g.question for g in report_gaps(logged.log, days=1, site="garden")}
    assert GARDEN_MISS.lower() in garden_gaps and GARDEN_QUESTION.lower() not in garden_gaps
    # The garden question asked of all sites went to the garden, which answered it: no gap for the guide.
    guide_gaps = {g.question for g in report_gaps(logged.log, days=1, site="guide")}
    assert GARDEN_QUESTION.lower() not in guide_gaps and GARDEN_MISS.lower() not in guide_gaps
    guide_asked = {(a.question, a.times) for a in report_asked(logged.log, days=1, site="guide")}
    assert (GUIDE_QUESTION.lower(), 1) in guide_asked
    # Asked of all sites and answered by none: one gap, under the site that came closest, not one per site.
    everywhere = [g for g in report_gaps(logged.log, days=1) if g.question == NOWHERE.lower()]
    assert sum(g.times for g in everywhere) == 2  # the API's all-sites question and the page's guide one
    assert {g.site for g in everywhere} <= {"guide", "garden"}
    assert [g.times for g in everywhere if g.site == "guide"] and all(g.site for g in everywhere)


def test_votes_go_to_the_results_site_and_must_be_one_of_its_passages(logged):
    http = logged.http
    garden = logged.answers[(GARDEN_QUESTION, "garden")]["results"][0]
    guide = logged.answers[(GUIDE_QUESTION, "guide")]["results"][0]

    def vote(passage: str, **extra) -> httpx.Response:
        data = {"q": GARDEN_QUESTION, "passage": passage, "helpful": "no", **extra}
        return http.post("/api/feedback", data=data, headers={"Accept": "application/json"})

    assert vote(garden["id"], site="garden").status_code == 200
    assert vote(guide["id"], site="guide").status_code == 200
    assert vote(guide["id"]).status_code == 200  # a page or widget from before sites: found on its site
    wrong = vote(garden["id"], site="guide")  # the guide has no such passage: it must not reach its report
    assert wrong.status_code == 422 and "guide" in wrong.json()["detail"]
    assert vote(garden["id"], site="nope").status_code == 422
    votes = {(u.passage, u.site, u.times) for u in report_unhelpful(logged.log, days=1)}
    assert (garden["id"], "garden", 1) in votes and (guide["id"], "guide", 2) in votes
    assert {u.site for u in report_unhelpful(logged.log, days=1, site="garden")} == {"garden"}


def test_the_page_votes_for_each_passage_on_its_own_site(logged):
    page = logged.http.get("/", params={"q": GARDEN_QUESTION})
    forms = page.text.split('<form class="feedback"')[1:]
    sites = {f.split('name="site" value="', 1)[1].split('"', 1)[0] for f in forms if 'name="site"' in f}
    assert len(forms) > 1 and all('name="site"' in f for f in forms) and sites == {"guide", "garden"}
    one = logged.http.get("/", params={"q": GARDEN_QUESTION, "site": "garden"})
    assert 'name="site" value="garden"' in one.text and 'name="site" value="guide"' not in one.text


def test_a_vote_without_javascript_comes_back_to_the_site_the_reader_searched(logged):
    page = logged.http.get("/", params={"q": GARDEN_QUESTION, "site": "garden"})
    form = page.text.split('<form class="feedback"', 1)[1].split("</form>", 1)[0]
    fields = dict(re.findall(r'name="([a-z_]+)" value="([^"]*)"', form))
    fields["helpful"] = "yes"
    vote = logged.http.post("/api/feedback", data=fields, headers={"Accept": "text/html"}, follow_redirects=False)
    assert vote.status_code == 303
    back = urlsplit(vote.headers["location"])
    assert parse_qs(back.query)["site"] == ["garden"] and parse_qs(back.query)["thanks"] == ["1"]
    every = logged.http.get("/", params={"q": GARDEN_QUESTION})  # searched on all sites: back to all sites
    form = every.text.split('<form class="feedback"', 1)[1].split("</form>", 1)[0]
    fields = dict(re.findall(r'name="([a-z_]+)" value="([^"]*)"', form), helpful="no")
    vote = logged.http.post("/api/feedback", data=fields, headers={"Accept": "text/html"}, follow_redirects=False)
    assert "site" not in parse_qs(urlsplit(vote.headers["location"]).query)


def test_an_all_sites_page_counts_results_per_site_with_links_that_search_one(logged):
    api = logged.http.get("/api/search", params={"q": GARDEN_QUESTION}).json()
    page = logged.http.get("/", params={"q": GARDEN_QUESTION})
    nav = page.text.split('<nav class="site-counts"', 1)[1].split("</nav>", 1)[0]
    for name, count in api["sites"].items():
        assert f'?q=how+deep+do+I+plant+tulip+bulbs&amp;site={name}">{name}</a>' in nav
        assert f'{name}</a> <span class="chip-count">({count})</span>' in nav
    assert sum(api["sites"].values()) == len(api["results"]) and api["sites"]["garden"] > 0
    garden = logged.http.get("/", params={"q": GARDEN_QUESTION, "site": "garden"})  # what a link leads to
    assert "fifteen centimetres" in garden.text and "site-counts" not in garden.text


def test_beacon_report_shows_one_sites_rows_or_every_row_with_its_site(logged):
    env = {"BEACON_QUERY_LOG_PATH": str(logged.log)}
    sites = ["--sites", str(logged.sites_file)]

    def report(*args: str) -> str:
        result = CliRunner().invoke(main, ["report", *args], env=env, terminal_width=200)
        assert result.exit_code == 0, result.output
        return result.output

    garden = report(*sites, "--only", "garden", "gaps")
    assert GARDEN_MISS.lower() in garden and GUIDE_QUESTION.lower() not in report(*sites, "--only", "garden", "asked")
    assert report("gaps", *sites, "--only", "garden") == garden  # the options work on the subcommand as well
    every = report(*sites, "asked")
    assert "share answered, site, question" in every
    rows = [line.split(None, 2)[2] for line in every.splitlines() if line.startswith(" ")]
    assert f"garden  {GARDEN_MISS.lower()}" in rows and f"guide   {GUIDE_QUESTION.lower()}" in rows, every
    missing = CliRunner().invoke(main, ["report", *sites, "--only", "nope"], env=env)
    assert missing.exit_code == 1 and "no site 'nope'" in missing.output and "guide, garden" in missing.output
    alone = CliRunner().invoke(main, ["report", "--only", "garden"], env=env)
    assert alone.exit_code == 1 and "add --sites FILE" in alone.output


def test_beacon_report_html_of_one_site_groups_and_links_within_it(logged, tmp_path):
    out = tmp_path / "garden.html"
    result = CliRunner().invoke(
        main,
        ["report", "--sites", str(logged.sites_file), "--only", "garden", "--html", str(out)],
        env={"BEACON_QUERY_LOG_PATH": str(logged.log)},
    )
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert "Site: garden" in html and GARDEN_MISS.lower() in html and GUIDE_QUESTION.lower() not in html
    # The garden's gap found its nearest passage in the garden, linked to the garden's /source/ page.
    assert 'href="/source/' in html and "?site=garden" in html


def test_the_dashboard_shows_one_sites_figures_chosen_without_javascript(logged):
    http = logged.http
    value = session_cookie(sign_in(http))
    everything = http.get("/admin", headers=cookie(value))
    assert everything.status_code == 200
    assert '<select name="site">' in everything.text and '<option value="garden">garden</option>' in everything.text
    assert '<th scope="col">Site</th>' in everything.text  # every site's rows, each naming its own
    garden = http.get("/admin", params={"site": "garden"}, headers=cookie(value))
    assert garden.status_code == 200 and '<option value="garden" selected>' in garden.text
    assert GARDEN_MISS.lower() in garden.text and GUIDE_QUESTION.lower() not in garden.text
    assert GARDEN_MISS.lower() in everything.text and GUIDE_QUESTION.lower() in everything.text
    assert 'href="/admin/csv/most-asked.csv?site=garden"' in garden.text
    csv = http.get("/admin/csv/most-asked.csv", params={"site": "garden"}, headers=cookie(value))
    assert csv.status_code == 200 and GARDEN_MISS.lower() in csv.text and GUIDE_QUESTION.lower() not in csv.text
    unknown = http.get("/admin", params={"site": "nope"}, headers=cookie(value))
    assert unknown.status_code == 422 and "guide, garden" in unknown.text


def test_the_widget_searches_the_version_it_names_and_its_votes_go_to_that_version(
    browser, default_index, embedder, tmp_path_factory
):
    import time

    from playwright.sync_api import expect

    from service.app import create_app
    from tests.service.test_browser import StaticSite, _new_page, widget_input, widgets_page
    from tests.service.test_sites import versioned_sites

    root = tmp_path_factory.mktemp("widget-versions")
    server_file, log = versioned_sites(root, default_index, embedder), root / "log.sqlite"
    host = root / "host"
    host.mkdir()
    settings = make_settings(default_index, sites_file=server_file, query_log_path=log)
    with LiveServer(create_app(settings, embedder=embedder)) as served:
        widgets = """<beacon-search id="old" site="garden" version="1"></beacon-search>
<beacon-search id="current" site="garden"></beacon-search>"""
        (host / "index.html").write_text(widgets_page(served.url, "Versions", widgets), encoding="utf-8")
        with StaticSite(host) as site:
            page = _new_page(browser)
            try:
                page.goto(site.url + "/index.html")
                for widget in ("old", "current"):
                    widget_input(page, f"#{widget}").fill(GARDEN_QUESTION)
                    widget_input(page, f"#{widget}").press("Enter")
                old, current = page.locator("beacon-search#old"), page.locator("beacon-search#current")
                expect(old.locator("li.doc p.site").first).to_have_text("garden 1")
                expect(old.locator("ol")).to_contain_text("ten centimetres")
                expect(current.locator("li.doc p.site").first).to_have_text("garden 2")
                expect(current.locator("ol")).to_contain_text("fifteen centimetres")
                for widget in (old, current):  # the same passage id in both versions: the vote says which
                    widget.locator("li.doc button[data-helpful=no]").first.click()
                    expect(widget.locator("li.doc p.fb").first).to_be_visible()  # thanked; the vote is on its way
            finally:
                page.context.close()
            deadline = time.monotonic() + 30
            while len(votes := report_unhelpful(log, days=1, site="garden")) < 2:
                assert time.monotonic() < deadline, f"the widgets' votes did not reach the log: {votes}"
                time.sleep(0.1)
    assert sorted((v.site, v.passage.split("#")[0], v.times) for v in votes) == [
        ("garden@1", "bulbs", 1),
        ("garden@2", "bulbs", 1),
    ]


# --- the log file itself --------------------------------------------------------------------------------

# The schema of a log written before sites existed (Beacon as of commit 727b4af).
OLD_SCHEMA = """
CREATE TABLE gaps (asked_at REAL NOT NULL, question TEXT NOT NULL, top_score REAL);
CREATE TABLE asked (asked_at REAL NOT NULL, question TEXT NOT NULL, answered INTEGER NOT NULL);
CREATE TABLE feedback (given_at REAL NOT NULL, question TEXT NOT NULL, passage TEXT NOT NULL,
    kind TEXT NOT NULL, helpful INTEGER NOT NULL, lang TEXT);
CREATE TABLE filter_use (used_at REAL NOT NULL, name TEXT NOT NULL);
"""


def old_log(path: Path, now: float) -> Path:
    with sqlite3.connect(path) as db:
        db.executescript(OLD_SCHEMA)
        db.execute("INSERT INTO gaps VALUES (?, 'old gap', 0.2)", (now,))
        db.execute("INSERT INTO asked VALUES (?, 'old gap', 0)", (now,))
        db.execute("INSERT INTO feedback VALUES (?, 'old vote', 'a#b', 'result', 0, 'en')", (now,))
        db.execute("INSERT INTO filter_use VALUES (?, 'online')", (now,))
    db.close()
    return path


def test_a_log_written_before_sites_is_reported_on_as_it_is_and_gains_the_column_when_served(tmp_path):
    import time

    now = time.time()
    path = old_log(tmp_path / "old.sqlite", now - 60)
    # A copy is reported on read-only, never altered: every row, and no site has any of them.
    assert [(g.question, g.site) for g in report_gaps(path, days=1)] == [("old gap", None)]
    assert report_gaps(path, days=1, site="garden") == [] and filter_counts(path, days=1) == [("online", 1)]
    with sqlite3.connect(path) as db:
        assert "site" not in {c[1] for c in db.execute("PRAGMA table_info(gaps)")}
    db.close()
    log = CuratorLog(path, retention_days=30)  # the service opens it: each table gains `site`
    with sqlite3.connect(path) as db:
        for table in ("gaps", "asked", "feedback", "filter_use"):
            assert "site" in {c[1] for c in db.execute(f"PRAGMA table_info({table})")}, table
    db.close()
    assert log.record_unanswered("new gap", 0.1, site="garden@2")
    assert log.record_asked("new gap", answered=False, filters=("tips",), site="garden@2")
    assert log.record_feedback("new vote", "c#d", "answer", False, "en", site="guide")
    assert {(g.question, g.site) for g in report_gaps(path, days=1)} == {("old gap", None), ("new gap", "garden@2")}
    # NAME is the site in every version; NAME@VERSION one version; another site's rows never show.
    assert [g.question for g in report_gaps(path, days=1, site="garden")] == ["new gap"]
    assert [g.question for g in report_gaps(path, days=1, site="garden@2")] == ["new gap"]
    assert report_gaps(path, days=1, site="garden@1") == [] and report_gaps(path, days=1, site="garde") == []
    assert [u.question for u in report_unhelpful(path, days=1, site="guide")] == ["new vote"]
    assert filter_counts(path, days=1, site="garden") == [("tips", 1)]
    assert log.failures == 0
