"""A damaged vectors file under `beacon serve`: rebuilt at start, refused on reload, never a crash."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from index.publish import current_dir
from tests.helpers import (
    GUIDE_CORPUS,
    TINY,
    beacon_env,
    copy_index,
    free_port,
    start_beacon,
    wait_until_ok,
    write_corpus,
)

pytestmark = pytest.mark.server


def _env(**extra) -> dict:
    return beacon_env(BEACON_RATE_LIMIT_PER_MINUTE=0, BEACON_LOG_FORMAT="text", **extra)


def _start(*args, **env) -> subprocess.Popen:
    return start_beacon("serve", *args, env=_env(**env))


def _stop(proc: subprocess.Popen) -> str:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.stdout.read()


@pytest.fixture
def tiny_index(tmp_path, embedder) -> tuple[Path, Path]:
    from index import build_index

    corpus = write_corpus(tmp_path / "corpus", TINY)
    build_index(corpus, tmp_path / "idx", embedder)
    return corpus, tmp_path / "idx"


def test_beacon_serve_rebuilds_a_truncated_vectors_file(tiny_index):
    corpus, index_dir = tiny_index
    damaged = current_dir(index_dir)
    os.truncate(damaged / "vectors.faiss", 50000)
    port = free_port()
    proc = _start("--corpus", str(corpus), "--index", str(index_dir), "--port", str(port))
    try:
        wait_until_ok(proc, f"http://127.0.0.1:{port}")
        health = httpx.get(f"http://127.0.0.1:{port}/healthz").json()
        assert health["version"] != damaged.name
        assert httpx.get(f"http://127.0.0.1:{port}/api/search", params={"q": "I-131 diary"}).status_code == 200
    finally:
        out = _stop(proc)
    assert "damaged" in out and "cannot start" not in out, out
    assert "Traceback" not in out, out


def test_two_workers_keep_serving_when_vectors_are_damaged_live_and_refuse_a_damaged_version(guide_index, tmp_path):
    index_dir = copy_index(guide_index, tmp_path / "idx")
    good = current_dir(index_dir)
    assert (good / "vectors.faiss").stat().st_size > 50000  # so the truncation below really cuts it
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = _start(
        "--no-build",
        "--workers",
        "2",
        "--index",
        str(index_dir),
        "--corpus",
        str(GUIDE_CORPUS),
        "--port",
        str(port),
        BEACON_RELOAD_INTERVAL="0.2",
        BEACON_QUERY_CACHE="0",
    )
    try:
        wait_until_ok(proc, url)
        with httpx.Client(base_url=url, timeout=10) as c:
            # Damage the live file under the running workers (as `truncate -s 50000` would).
            os.truncate(good / "vectors.faiss", 50000)
            statuses = [c.get("/api/search", params={"q": f"H-alpha log {n}"}).status_code for n in range(40)]
            assert statuses == [200] * 40

            # Publish a version whose vectors are garbage of the right size: both workers refuse it.
            bad = index_dir / "versions" / "v99999999T000000000000Z"
            shutil.copytree(good, bad)
            os.chmod(bad, 0o755)
            size = (bad / "vectors.faiss").stat().st_size
            os.chmod(bad / "vectors.faiss", 0o644)
            (bad / "vectors.faiss").write_bytes(os.urandom(size))
            from index.publish import set_current

            set_current(index_dir, bad.name)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                versions = {c.get("/healthz").json()["version"] for _ in range(10)}
                assert versions == {good.name}
                time.sleep(0.5)
                if time.monotonic() > deadline - 25:  # several poll rounds have passed in both workers
                    break
            statuses = [c.get("/api/search", params={"q": f"support group {n}"}).status_code for n in range(20)]
            assert statuses == [200] * 20
        assert proc.poll() is None
    finally:
        out = _stop(proc)
    refused = [line for line in out.splitlines() if "could not load index v99999999T000000000000Z" in line]
    assert 1 <= len(refused) <= 2, out  # one clear line per worker, not one per poll
    assert "SHA-256" in refused[0]
    assert out.count("Started server process") <= 3, out  # no restart storm (2 workers + the supervisor)
    assert "Traceback" not in out, out
