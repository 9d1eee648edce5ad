"""The curators' log (service/querylog.py): one store for the gap log, the questions asked, the votes and
the filters used, with one retention and one row cap for every table, and reads that never write."""

from __future__ import annotations

import sqlite3
import time

from service.querylog import (
    DAY,
    CuratorLog,
    filter_counts,
    helpful_counts,
    report_asked,
    report_gaps,
    report_unhelpful,
)

CAP = 100


def rows(path, table) -> int:
    with sqlite3.connect(path) as db:
        return db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_the_row_cap_applies_to_votes_asked_questions_and_filters_as_to_gaps(tmp_path):
    # The audit (issue 21, M5): with the cap at 100, gaps kept 100, feedback 301 and asked 150.
    path = tmp_path / "log.sqlite"
    log = CuratorLog(path, retention_days=30, max_rows=CAP)
    now = time.time()
    for n in range(150):
        log.record_unanswered(f"gap {n}", None, now=now - 300 + n)
        log.record_asked(f"asked {n}", answered=bool(n % 2), filters=("online",), now=now - 300 + n)
    for n in range(301):
        log.record_feedback(f"vote {n}", "a#b", "result", False, None, now=now - 400 + n)
    assert {t: rows(path, t) for t in ("gaps", "asked", "feedback", "filter_use")} == {
        "gaps": CAP,
        "asked": CAP,
        "feedback": CAP,
        "filter_use": CAP,
    }
    # The newest are the ones kept, in every table.
    assert {a.question for a in report_asked(path, days=30, limit=1000)} == {f"asked {n}" for n in range(50, 150)}
    assert {u.question for u in report_unhelpful(path, days=30, limit=1000)} == {f"vote {n}" for n in range(201, 301)}


def test_retention_applies_to_every_table_at_open_and_on_write(tmp_path):
    path = tmp_path / "log.sqlite"
    log = CuratorLog(path, retention_days=30, max_rows=CAP)
    now = time.time()
    log.record_asked("old", answered=False, filters=("tips",), now=now - 40 * DAY)
    log.record_feedback("old", "a#b", "answer", False, "en", now=now - 40 * DAY)
    log.record_unanswered("old", 0.1, now=now - 40 * DAY)
    CuratorLog(path, retention_days=30, max_rows=CAP)  # start-up prunes
    assert [rows(path, t) for t in ("gaps", "asked", "feedback", "filter_use")] == [0, 0, 0, 0]


def test_filter_use_is_counted_by_name_only(tmp_path):
    path = tmp_path / "log.sqlite"
    log = CuratorLog(path, retention_days=30)
    log.record_asked("q1", answered=True, filters=("online", "tips"))
    log.record_asked("q2", answered=True, filters=("online",))
    log.record_asked("q3", answered=True)
    assert filter_counts(path, days=30) == [("online", 2), ("tips", 1)]
    with sqlite3.connect(path) as db:
        columns = [c[1] for c in db.execute("PRAGMA table_info(filter_use)")]
    assert columns == ["used_at", "name", "site"], "a filter's name, time and site, nothing that links it to a reader"


def test_reports_on_a_new_or_empty_log_create_nothing(tmp_path):
    empty = tmp_path / "empty.sqlite"
    sqlite3.connect(empty).close()  # an empty database file, as a curator's copy might be
    before = empty.read_bytes()
    assert report_gaps(empty, days=30) == []
    assert report_unhelpful(empty, days=30) == []
    assert report_asked(empty, days=30) == []
    assert helpful_counts(empty, days=30) == (0, 0)
    assert filter_counts(empty, days=30) == []
    assert empty.read_bytes() == before
    with sqlite3.connect(empty) as db:
        assert db.execute("SELECT name FROM sqlite_master").fetchall() == []
    missing = tmp_path / "missing.sqlite"
    assert report_asked(missing, days=30) == [] and not missing.exists()


def test_a_read_only_log_can_be_reported_on(tmp_path):
    path = tmp_path / "log.sqlite"
    CuratorLog(path, retention_days=30).record_feedback("q", "a#b", "answer", False, None)
    # SQLite opened read-only: a report that tried to create a table or prune would fail here.
    assert [u.question for u in report_unhelpful(path, days=30)] == ["q"]
    assert helpful_counts(path, days=30) == (0, 1)
