"""Faults: a damaged or missing index at start, a full disk during build, SIGTERM while answering."""

from __future__ import annotations

import resource
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from index.publish import current_dir
from tests.helpers import (
    GUIDE_CORPUS,
    ROOT,
    TINY,
    beacon_env,
    copy_index,
    free_port,
    run_beacon,
    start_beacon,
    wait_until_ok,
    write_corpus,
)

LONG = "where can I find other patients who had radioactive iodine treatment and surgery " * 5


@pytest.fixture
def corrupt_index(guide_index, tmp_path) -> Path:
    index_dir = copy_index(guide_index, tmp_path / "idx")
    chunks = current_dir(index_dir) / "chunks.json"
    chunks.write_bytes(chunks.read_bytes()[: len(chunks.read_bytes()) // 2])  # a torn write
    return index_dir


def test_serve_no_build_without_index_exits_1_with_a_hint(tmp_path):
    result = run_beacon("serve", "--no-build", "--index", str(tmp_path / "none"), "--port", str(free_port()))
    assert result.returncode == 1
    assert "no index" in result.stderr and "beacon build" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_no_build_with_damaged_index_exits_1_with_a_clear_message(corrupt_index):
    result = run_beacon("serve", "--no-build", "--index", str(corrupt_index), "--port", str(free_port()))
    assert result.returncode == 1
    assert "missing or damaged" in result.stderr and "beacon build" in result.stderr
    assert "Traceback" not in result.stderr


def test_app_startup_with_damaged_index_fails_with_one_clear_line(corrupt_index):
    port = free_port()
    result = subprocess.run(
        [sys.executable, "-m", "uvicorn", "service.app:create_app_from_env", "--factory", "--port", str(port)],
        cwd=ROOT,
        env=beacon_env(BEACON_INDEX_DIR=corrupt_index),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 1
    assert "cannot start" in result.stderr and "missing or damaged" in result.stderr
    assert "Traceback" not in result.stderr


def test_reload_of_a_damaged_version_keeps_serving_the_last_good_one(guide_index, embedder, tmp_path):
    from index import SearchSettings
    from index.publish import set_current
    from service.live import LiveIndex

    index_dir = copy_index(guide_index, tmp_path / "idx")
    live = LiveIndex(index_dir, embedder, SearchSettings())
    good = live.searcher.version
    bad = copy_index(current_dir(index_dir), index_dir / "versions" / "v99999999T000000000000Z")
    (bad / "vectors.faiss").write_bytes(b"not an index")
    set_current(index_dir, bad.name)
    assert live.refresh() is False
    assert live.searcher.version == good
    assert live.searcher.search("H-alpha log", 3).hits


def _limit_file_size(limit: int):
    def apply():
        # Writes past the limit fail with EFBIG, as on a full disk; ignoring SIGXFSZ turns the kill into an error.
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def test_disk_full_during_build_leaves_the_live_index_intact(tmp_path, embedder):
    from index import build_index, open_searcher

    corpus = write_corpus(tmp_path / "corpus", TINY)
    index_dir = tmp_path / "idx"
    build_index(corpus, index_dir, embedder)
    live_before = (index_dir / "CURRENT").read_text()
    files_before = sorted(p.relative_to(index_dir) for p in current_dir(index_dir).rglob("*"))
    (corpus / "more.md").write_text("---\ntitle: More\n---\n" + "Support groups meet monthly. " * 200)

    result = run_beacon(
        "build", "--corpus", str(corpus), "--index", str(index_dir), "-q", preexec_fn=_limit_file_size(4096)
    )
    assert result.returncode == 1, result.stderr
    assert "could not write" in result.stderr and "live index was not changed" in result.stderr
    assert "Traceback" not in result.stderr
    assert (index_dir / "CURRENT").read_text() == live_before
    assert sorted(p.relative_to(index_dir) for p in current_dir(index_dir).rglob("*")) == files_before
    assert open_searcher(index_dir, embedder).search("I-131 diary", 3).hits

    # With room again the next build publishes and leaves no debris behind.
    report = build_index(corpus, index_dir, embedder)
    assert report.version and (index_dir / "CURRENT").read_text().strip() == report.version
    assert not list((index_dir / ".staging").glob("*")) if (index_dir / ".staging").exists() else True
    assert not [p for p in index_dir.rglob("*.tmp")]


def test_sigterm_lets_in_flight_requests_finish_then_exits_0(guide_index):
    port = free_port()
    proc = start_beacon(
        "serve",
        "--no-build",
        "--index",
        str(guide_index),
        "--corpus",
        str(GUIDE_CORPUS),
        "--port",
        str(port),
        env=beacon_env(BEACON_RATE_LIMIT_PER_MINUTE=0, BEACON_MAX_CONCURRENT_SEARCHES=64, BEACON_SHUTDOWN_GRACE_S=20),
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ok(proc, url, seconds=120)

        def ask(n):
            try:
                with httpx.Client(timeout=60) as c:
                    r = c.get(url + "/api/search", params={"q": f"{LONG} {n}", "k": 20})
                return r.status_code, time.monotonic()
            except httpx.TransportError:  # not yet accepted when the listener closed: never started
                return None, time.monotonic()

        with ThreadPoolExecutor(24) as pool:
            futures = [pool.submit(ask, n) for n in range(24)]
            futures[0].result()  # the server is answering, the rest are in flight
            sent_at = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            results = [f.result() for f in futures]
        code = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    statuses = [s for s, _ in results if s is not None]
    assert set(statuses) == {200}, results
    assert any(s == 200 and t > sent_at for s, t in results), "no request was drained after SIGTERM"
    assert code == 0
