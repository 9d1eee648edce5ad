"""Incremental rebuilds, chunking-setting changes, version cleanup, rollback and --watch."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from index import Embedder, build_index, current_version, list_versions, open_searcher
from index.errors import IndexMissingError
from index.versions import describe_versions, rollback
from tests.helpers import ROOT, ctrl_c_stops_it, write_corpus


def test_changed_chunking_setting_rebuilds_every_chunk(tiny_corpus, tmp_path, embedder):
    index_dir = tmp_path / "idx"
    wide = embedder
    first = build_index(tiny_corpus, index_dir, wide)
    assert build_index(tiny_corpus, index_dir, wide).version is None
    narrow = Embedder(max_tokens=32)  # same weights, a smaller window: other chunks and vectors
    second = build_index(tiny_corpus, index_dir, narrow)
    assert second.version is not None and second.version != first.version
    assert second.embedded == second.chunks >= first.chunks and second.reused == 0
    assert build_index(tiny_corpus, index_dir, narrow).version is None


def test_old_versions_are_pruned_and_rollback_makes_an_earlier_one_live(tiny_corpus, tmp_path, embedder):
    index_dir = tmp_path / "idx"
    published = []
    for n in range(4):
        write_corpus(tiny_corpus, {"news.md": f"---\ntitle: News\n---\nEdition number {n} of the news.\n"})
        published.append(build_index(tiny_corpus, index_dir, embedder, keep=2).version)
    assert list_versions(index_dir) == published[-2:]
    assert [(v.version, v.live) for v in describe_versions(index_dir)] == [(published[2], False), (published[3], True)]
    assert rollback(index_dir) == published[2] == current_version(index_dir)
    top = open_searcher(index_dir, embedder).search("news edition", k=1).hits[0]
    assert "Edition number 2" in top.chunk.text
    with pytest.raises(IndexMissingError, match="beacon versions"):
        rollback(index_dir)  # nothing older is kept
    with pytest.raises(IndexMissingError, match="not kept"):
        rollback(index_dir, to=published[0])
    assert rollback(index_dir, to=published[3]) == current_version(index_dir)


def test_versions_and_rollback_commands(tiny_corpus, tmp_path, embedder):
    from click.testing import CliRunner

    from service.cli import main

    index_dir = tmp_path / "idx"
    first = build_index(tiny_corpus, index_dir, embedder).version
    write_corpus(tiny_corpus, {"more.md": "---\ntitle: More\n---\nMore text.\n"})
    second = build_index(tiny_corpus, index_dir, embedder).version
    listed = CliRunner().invoke(main, ["versions", "--index", str(index_dir)])
    assert listed.exit_code == 0 and f"* {second}" in listed.output and f"  {first}" in listed.output
    rolled = CliRunner().invoke(main, ["rollback", "--index", str(index_dir)])
    assert rolled.exit_code == 0 and f"now {first} (was {second})" in rolled.output
    bad = CliRunner().invoke(main, ["rollback", "--index", str(index_dir), "--to", "v-nope"])
    assert bad.exit_code == 1 and "beacon versions" in bad.output


def _wait(predicate, what: str, proc, timeout: float = 120):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert proc.poll() is None, f"watcher exited early while waiting for {what}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def test_watch_rebuilds_on_change_survives_a_broken_file_and_stops_on_ctrl_c(tiny_corpus, tmp_path):
    index_dir = tmp_path / "idx"
    env = {
        **os.environ,
        "BEACON_CORPUS_DIR": str(tiny_corpus),
        "BEACON_INDEX_DIR": str(index_dir),
        "PYTHONPATH": str(ROOT),
    }
    log = tmp_path / "watch.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "service.cli", "build", "--watch", "-q"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=ctrl_c_stops_it,
        )
        try:
            _wait(lambda: current_version(index_dir) is not None, "the first build", proc)
            first = current_version(index_dir)
            (tiny_corpus / "bad.md").write_text("---\ntitle: Bad\nlinks: [oops\n---\nText\n")
            _wait(lambda: "bad.md:3" in log.read_text(), "the broken file to be reported", proc)
            assert current_version(index_dir) == first
            (tiny_corpus / "bad.md").write_text("---\ntitle: Fixed\n---\nThe otter swimming club is fixed.\n")
            _wait(lambda: current_version(index_dir) != first, "a rebuild after the fix", proc)
            proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout=30) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
    text = log.read_text()
    assert "Still watching" in text and "Stopped watching." in text and "Traceback" not in text


def test_watch_catches_a_save_made_while_the_first_build_ran(tiny_corpus, tmp_path, embedder):
    """The watcher starts after the first build; a save in between must still be built."""
    import threading

    from index.watch import watch_and_build

    index_dir, stop, reports = tmp_path / "idx", threading.Event(), []

    def on_report(report):
        reports.append(report)
        if len(reports) == 1:  # saved just after the first publish, before the watcher runs
            (tiny_corpus / "late.md").write_text("---\ntitle: Late\n---\nThe heron walking group meets at dawn.\n")
        else:
            stop.set()

    worker = threading.Thread(
        target=watch_and_build,
        args=(tiny_corpus, index_dir, embedder),
        daemon=True,
        kwargs={"on_report": on_report, "on_error": lambda e: stop.set(), "stop": stop},
    )
    worker.start()
    worker.join(timeout=120)
    assert not worker.is_alive(), "no rebuild after a save made during the first build"
    assert len(reports) == 2 and reports[1].added >= 1
    hit = open_searcher(index_dir, embedder).search("heron walking group", 1).hits[0]
    assert hit.chunk.doc_id == "late"
