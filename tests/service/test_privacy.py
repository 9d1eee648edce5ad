"""Privacy: questions never reach the logs; the optional gap log keeps only question, time and top score."""

from __future__ import annotations

import logging
import sqlite3
import time

import httpx
import pytest
from click.testing import CliRunner

from service.querylog import DAY, CuratorLog, report_gaps
from tests.helpers import GUIDE_CORPUS, LiveServer, make_settings

pytestmark = pytest.mark.server  # starts real uvicorn servers

SECRET = "my biopsy came back papillary what now"
UNANSWERABLE = "qwzx flibbertigibbet vorpal snark"


def test_request_logs_carry_the_path_but_never_the_question(guide_index, embedder, caplog):
    from service.app import create_app

    with caplog.at_level(logging.DEBUG):
        with LiveServer(create_app(make_settings(guide_index, GUIDE_CORPUS), embedder=embedder)) as server:
            httpx.get(server.url + "/api/search", params={"q": SECRET})
            httpx.get(server.url + "/", params={"q": SECRET})
            httpx.get(server.url + "/api/search", params={"q": SECRET + "x" * 600})  # a 422 too
    requests = [r for r in caplog.records if r.name == "beacon.access" and r.getMessage() == "request"]
    assert {r.fields["path"] for r in requests} >= {"/api/search", "/"}
    assert {r.fields["status"] for r in requests} >= {200, 422}
    server_side = [r for r in caplog.records if r.name.startswith(("beacon", "uvicorn", "fastapi", "starlette"))]
    everything = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in server_side)
    assert "biopsy" not in everything and "papillary" not in everything


def test_json_log_lines_are_structured():
    import json

    from service.logs import JsonFormatter

    record = logging.LogRecord("beacon.access", logging.INFO, __file__, 1, "request", None, None)
    record.fields = {"path": "/api/search", "status": 200, "ms": 1.5}
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "request" and line["path"] == "/api/search" and line["status"] == 200
    assert line["level"] == "info" and line["time"].endswith("+00:00")


def test_gap_log_is_off_by_default(guide_index, embedder, tmp_path):
    from service.app import create_app

    app = create_app(make_settings(guide_index, GUIDE_CORPUS), embedder=embedder)
    assert app.state.beacon.curator_log is None


def test_gap_log_keeps_only_unanswered_question_time_and_score(guide_index, embedder, tmp_path):
    from service.app import create_app

    db = tmp_path / "gaps.sqlite"
    app = create_app(make_settings(guide_index, GUIDE_CORPUS, query_log_path=db), embedder=embedder)
    with LiveServer(app) as server:
        answered = httpx.get(server.url + "/api/search", params={"q": "where can I talk to people about H-alpha"})
        assert answered.json()["answer"] is not None
        missed = httpx.get(
            server.url + "/api/search",
            params={"q": UNANSWERABLE},
            headers={"User-Agent": "secret-agent", "Cookie": "session=abc"},
        )
        assert missed.json()["answer"] is None
        httpx.get(server.url + "/", params={"q": UNANSWERABLE})
    with sqlite3.connect(db) as con:
        columns = [c[1] for c in con.execute("PRAGMA table_info(gaps)")]
        rows = con.execute("SELECT question, asked_at, top_score, site FROM gaps").fetchall()
    assert columns == ["asked_at", "question", "top_score", "site"]  # site: the server file's, never the reader's
    assert {r[3] for r in rows} == {None}  # a one-site server names no site
    assert [r[0] for r in rows] == [UNANSWERABLE, UNANSWERABLE]  # the answered question is not kept
    assert all(abs(r[1] - time.time()) < 600 and isinstance(r[2], float) for r in rows)
    raw = db.read_bytes()
    assert b"secret-agent" not in raw and b"127.0.0.1" not in raw and b"session=abc" not in raw


def test_gap_log_deletes_entries_past_retention_on_write(tmp_path):
    log = CuratorLog(tmp_path / "gaps.sqlite", retention_days=7)
    now = time.time()
    log.record_unanswered("old question", 0.1, now=now - 8 * DAY)
    log.record_unanswered("recent question", 0.2, now=now - 1 * DAY)
    log.record_unanswered("new question", 0.3, now=now)
    with sqlite3.connect(tmp_path / "gaps.sqlite") as con:
        kept = {q for (q,) in con.execute("SELECT question FROM gaps")}
    assert kept == {"recent question", "new question"}


def test_report_gaps_lists_the_most_frequent_unanswered_questions(tmp_path, monkeypatch):
    from service.cli import main

    db = tmp_path / "gaps.sqlite"
    log = CuratorLog(db, retention_days=90)
    now = time.time()
    for _ in range(3):
        log.record_unanswered("is there a group in Chengdu", 0.21, now=now - 3600)
    log.record_unanswered("Is there a group in Chengdu", 0.25, now=now)
    log.record_unanswered("vegan recipes after surgery", 0.3, now=now)
    log.record_unanswered("what about last month", 0.1, now=now - 40 * DAY)

    monkeypatch.setenv("BEACON_QUERY_LOG_PATH", str(db))
    result = CliRunner().invoke(main, ["report", "gaps", "--days", "30"])
    assert result.exit_code == 0, result.output
    lines = [l for l in result.output.splitlines() if l.strip() and not l.startswith("Unanswered")]
    assert "4" in lines[0].split()[0] and "chengdu" in lines[0]
    assert "vegan recipes after surgery" in lines[1]
    assert "last month" not in result.output
    assert [g.times for g in report_gaps(db, days=60)] == [4, 1, 1]


def test_report_gaps_without_a_log_says_how_to_turn_it_on(monkeypatch, tmp_path):
    from service.cli import main

    monkeypatch.delenv("BEACON_QUERY_LOG_PATH", raising=False)
    result = CliRunner().invoke(main, ["report", "gaps"])
    assert result.exit_code == 1
    assert "BEACON_QUERY_LOG_PATH" in result.output


def test_report_takes_the_log_as_a_flag_and_a_bad_setting_is_one_line(monkeypatch, tmp_path):
    from service.cli import main
    from service.querylog import CuratorLog

    db = tmp_path / "gaps.sqlite"
    CuratorLog(db, retention_days=30).record_unanswered("is there a group in Chengdu", 0.2)
    monkeypatch.delenv("BEACON_QUERY_LOG_PATH", raising=False)
    result = CliRunner().invoke(main, ["report", "--log", str(db), "gaps"])
    assert result.exit_code == 0 and "chengdu" in result.output.lower(), result.output
    monkeypatch.setenv("BEACON_QUERY_LOG_RETENTION_DAYS", "0")
    bad = CliRunner().invoke(main, ["report", "--log", str(db), "gaps"])
    assert bad.exit_code == 1 and "BEACON_QUERY_LOG_RETENTION_DAYS" in bad.output and "Traceback" not in bad.output
