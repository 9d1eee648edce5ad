"""'Did this help?': a form POST (no JavaScript needed) or the widget's fetch; stored only with the gap log on."""

from __future__ import annotations

import os
import sqlite3

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from service.querylog import DAY, CuratorLog, report_asked, report_unhelpful
from tests.helpers import make_settings

QUESTION = "where can I talk to people about I-131"


@pytest.fixture
def logged_client(default_index, embedder, tmp_path):
    from service.app import create_app

    db = tmp_path / "log" / "gaps.sqlite"
    app = create_app(make_settings(default_index, query_log_path=db), embedder=embedder)
    with TestClient(app, base_url="http://127.0.0.1:8000") as c:
        c.db = db
        yield c


def _vote(client, helpful="no", accept="text/html", **extra):
    data = {
        "q": QUESTION,
        "passage": "online/mi-jian#what-you-will-find-on-mi-jian",
        "kind": "answer",
        "helpful": helpful,
        **extra,
    }
    return client.post("/api/feedback", data=data, headers={"Accept": accept}, follow_redirects=False)


def test_form_post_redirects_back_to_the_page_with_thanks(logged_client):
    r = _vote(logged_client, lang="zh", tag=["online"])
    assert r.status_code == 303
    assert r.headers["location"] == "/?q=where+can+I+talk+to+people+about+I-131&tag=online&lang=zh&thanks=1#thanks"
    page = logged_client.get(r.headers["location"].split("#")[0])
    assert '<p id="thanks" class="thanks" role="status">谢谢你' in page.text
    assert "set-cookie" not in r.headers and "set-cookie" not in page.headers


def test_json_post_for_the_widget_and_what_is_stored(logged_client):
    r = _vote(logged_client, helpful="yes", accept="application/json")
    assert r.status_code == 200 and r.json() == {"thanks": True}
    with sqlite3.connect(logged_client.db) as db:
        rows = db.execute("SELECT question, passage, kind, helpful, lang FROM feedback").fetchall()
    assert rows == [(QUESTION, "online/mi-jian#what-you-will-find-on-mi-jian", "answer", 1, None)]


def test_get_changes_nothing(logged_client):
    assert logged_client.get("/api/feedback", params={"q": QUESTION, "helpful": "no"}).status_code == 405


@pytest.mark.parametrize(
    "data, reason",
    [
        ({"passage": "a#b", "helpful": "no"}, "empty"),
        ({"q": "x", "passage": "a#b", "helpful": "maybe"}, "helpful must be"),
        ({"q": "x", "passage": "", "helpful": "no"}, "passage"),
        ({"q": "x", "passage": "a#b", "helpful": "no", "kind": "page"}, "kind must be"),
    ],
)
def test_bad_feedback_is_a_422_with_a_reason(app_client, data, reason):
    r = app_client.post("/api/feedback", data=data, headers={"Accept": "application/json"})
    assert r.status_code == 422 and reason in r.json()["detail"]


def test_without_the_gap_log_nothing_is_stored_but_the_reader_is_thanked(app_client):
    assert app_client.app.state.beacon.curator_log is None
    assert _vote(app_client).status_code == 303


def test_feedback_is_rate_limited_with_the_searches(default_index, embedder):
    from service.app import create_app

    app = create_app(make_settings(default_index, rate_limit_per_minute=1, rate_limit_burst=2), embedder=embedder)
    with TestClient(app, base_url="http://127.0.0.1:8000") as c:
        codes = [_vote(c).status_code for _ in range(3)]
    assert codes == [303, 303, 429]


def test_widget_origins_may_post_feedback_but_nothing_else_opens(app_client):
    r = app_client.post(
        "/api/feedback",
        data={"q": "x", "passage": "a#b", "helpful": "no"},
        headers={"Origin": "https://clinic.example.org", "Accept": "application/json"},
    )
    assert r.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in r.headers
    pre = app_client.options(
        "/api/feedback", headers={"Origin": "https://a.example", "Access-Control-Request-Method": "POST"}
    )
    assert (
        "POST" in pre.headers["access-control-allow-methods"]
        and "GET" not in pre.headers["access-control-allow-methods"]
    )


def test_a_failed_write_is_logged_and_counted_never_shown(logged_client, caplog):
    os.remove(logged_client.db)
    logged_client.db.mkdir()  # the file is now a folder: every write fails
    assert _vote(logged_client).status_code == 303
    assert "feedback log write failed" in caplog.text
    metrics = logged_client.get("/metrics").text
    assert "beacon_feedback_write_failures_total 1.0" in metrics


def test_dropped_table_is_recreated(tmp_path):
    log = CuratorLog(tmp_path / "f.sqlite", retention_days=30)
    with sqlite3.connect(tmp_path / "f.sqlite") as db:
        db.execute("DROP TABLE feedback")
    assert log.record_feedback("q", "a#b", "result", False, None)
    assert [u.question for u in report_unhelpful(tmp_path / "f.sqlite", days=30)] == ["q"]


def test_retention_applies_to_feedback_and_asked_questions(tmp_path):
    log = CuratorLog(tmp_path / "f.sqlite", retention_days=30)
    now = 2_000_000_000.0
    log.record_feedback("old", "a#b", "result", False, None, now=now - 31 * DAY)
    log.record_asked("old", answered=True, now=now - 31 * DAY)
    log.record_feedback("new", "a#b", "result", False, None, now=now)
    log.record_asked("new", answered=True, now=now)
    with sqlite3.connect(tmp_path / "f.sqlite") as db:
        assert db.execute("SELECT question FROM feedback").fetchall() == [("new",)]
        assert db.execute("SELECT question FROM asked").fetchall() == [("new",)]


def test_beacon_report_shows_gaps_unhelpful_answers_and_most_asked(logged_client, monkeypatch):
    from service.cli import main

    logged_client.get("/api/search", params={"q": QUESTION})
    logged_client.get("/api/search", params={"q": QUESTION})
    logged_client.get("/api/search", params={"q": "what is the weather in paris tomorrow"})
    _vote(logged_client, helpful="no")
    monkeypatch.setenv("BEACON_QUERY_LOG_PATH", str(logged_client.db))
    result = CliRunner().invoke(main, ["report"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Unanswered" in out and "weather in paris" in out
    assert "Marked unhelpful" in out and "online/mi-jian#what-you-will-find-on-mi-jian" in out
    assert "Most asked" in out and f"2  100%  {QUESTION.lower()}" in out
    assert [a.times for a in report_asked(logged_client.db, days=30)][:1] == [2]


def test_questions_still_being_typed_are_not_stored_as_asked_or_unanswered(logged_client):
    # Search-as-you-type sends each pause of the typing; only the question the reader settles on
    # (sent again without typing=1) may reach the curator's report.
    for fragment in ("where can", "where can I talk to"):
        assert logged_client.get("/api/search", params={"q": fragment, "typing": "1"}).status_code == 200
        assert logged_client.get("/", params={"q": fragment, "typing": "1"}).status_code == 200
    logged_client.get("/api/search", params={"q": QUESTION, "typing": "1"})
    logged_client.get("/api/search", params={"q": QUESTION})
    asked = {a.question: a.times for a in report_asked(logged_client.db, days=30)}
    assert asked == {QUESTION.lower(): 1}
    with sqlite3.connect(logged_client.db) as db:
        gaps = [row[0] for row in db.execute("SELECT question FROM gaps")]
    assert gaps == []


def test_the_pages_own_form_posts_without_javascript(logged_client):
    import html
    import re

    page = logged_client.get("/", params={"q": QUESTION, "tag": "online", "lang": "zh"}).text
    form = re.search(
        r'<form class="feedback" method="post" action="/api/feedback">(.*?)</form>', page, re.DOTALL
    ).group(1)
    fields = [
        (name, html.unescape(value))
        for name, value in re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', form)
    ]
    assert ("q", QUESTION) in fields and ("tag", "online") in fields and ("lang", "zh") in fields
    from urllib.parse import urlencode

    r = logged_client.post(
        "/api/feedback",
        content=urlencode(fields + [("helpful", "no")]),
        follow_redirects=False,
        headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "text/html"},
    )
    assert r.status_code == 303 and "tag=online" in r.headers["location"] and "lang=zh" in r.headers["location"]
    with sqlite3.connect(logged_client.db) as db:
        assert db.execute("SELECT question, kind, helpful, lang FROM feedback").fetchall() == [
            (QUESTION, "answer", 0, "zh")
        ]
