"""The curator's loop against a real `beacon serve --workers 2` in a subprocess: publishes and
rollbacks go live without a failed request, killed builds never take the index away, and a
broken file leaves the live index as it was."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time

import httpx
import pytest

from index import build_index, current_version, load_version
from index.publish import current_dir
from tests.helpers import ROOT, TINY, ctrl_c_stops_it, free_port, write_corpus

WAIT = 90  # seconds; generous, the CI machine has 2 busy cores


def _env(corpus, index_dir, **extra) -> dict:
    return {
        **os.environ,
        "BEACON_CORPUS_DIR": str(corpus),
        "BEACON_INDEX_DIR": str(index_dir),
        "BEACON_RELOAD_INTERVAL": "0.5",
        "BEACON_RATE_LIMIT_PER_MINUTE": "0",
        "HF_HUB_OFFLINE": "1",
        "PYTHONPATH": str(ROOT),
        **{f"BEACON_{k.upper()}": str(v) for k, v in extra.items()},
    }


@pytest.fixture(scope="module")
def site(tmp_path_factory, embedder):
    """A corpus, its published index and `beacon serve --no-build --workers 2` serving it."""
    root = tmp_path_factory.mktemp("live")
    corpus, index_dir = write_corpus(root / "corpus", TINY), root / "index"
    build_index(corpus, index_dir, embedder)
    port = free_port()
    log = open(root / "server.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "serve", "--no-build", "--workers", "2", "--port", str(port)],
        cwd=ROOT,
        env=_env(corpus, index_dir),
        stdout=log,
        stderr=subprocess.STDOUT,
        preexec_fn=ctrl_c_stops_it,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + WAIT
    while True:
        assert proc.poll() is None and time.monotonic() < deadline, (root / "server.log").read_text()
        try:
            if httpx.get(f"{url}/healthz", timeout=5).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.3)
    yield {"url": url, "corpus": corpus, "index": index_dir, "log": root / "server.log", "root": root}
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


class LoadLoop:
    """Threads sending questions (and health checks) until stopped, recording every failure."""

    def __init__(self, url: str, threads: int = 4, max_requests: int = 20_000):
        self.url, self.max_requests = url, max_requests
        self.ok, self.failures = 0, []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, args=(n,), daemon=True) for n in range(threads)]

    def _run(self, n: int) -> None:
        questions = ["radioactive iodine diary", "hospital lectures", "food after surgery", "甲状腺癌 病友"]
        with httpx.Client(base_url=self.url, timeout=30) as client:
            i = 0
            while not self._stop.is_set() and self.ok + len(self.failures) < self.max_requests:
                i += 1
                try:
                    r = (
                        client.get("/healthz")
                        if i % 5 == 0
                        else client.get("/api/search", params={"q": questions[(n + i) % len(questions)], "k": 3})
                    )
                    good = r.status_code == 200 and (i % 5 == 0 or r.json()["results"])
                    outcome = None if good else f"{r.status_code} {r.text[:200]}"
                except httpx.HTTPError as e:
                    outcome = f"{type(e).__name__}: {e}"
                with self._lock:
                    if outcome is None:
                        self.ok += 1
                    else:
                        self.failures.append(outcome)

    def __enter__(self):
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        for t in self._threads:
            t.join(timeout=60)


def _top_doc(url: str, question: str) -> str | None:
    results = httpx.get(f"{url}/api/search", params={"q": question, "k": 1}, timeout=30).json()["results"]
    return results[0]["id"].split("#")[0] if results else None


def _wait_until_all_workers_serve(url: str, version: str, streak: int = 20) -> None:
    """New connections land on either worker, so a long streak of the right version means both have it."""
    deadline, seen = time.monotonic() + WAIT, 0
    while seen < streak:
        assert time.monotonic() < deadline, f"workers did not all switch to {version}"
        with httpx.Client(timeout=30) as fresh:
            seen = seen + 1 if fresh.get(f"{url}/healthz").json()["version"] == version else 0
        if not seen:
            time.sleep(0.2)


def _add_doc(corpus, name: str, title: str, text: str, sections: int = 1) -> None:
    body = "".join(f"\n## Part {s}\n{text} Part {s} of {title}.\n" for s in range(sections))
    write_corpus(corpus, {name: f"---\ntitle: {title}\n---\n{text}\n{body}"})


def test_edits_go_live_in_every_worker_without_a_failed_request(site, embedder):
    url, corpus, index_dir = site["url"], site["corpus"], site["index"]
    markers = ["lighthouse knitting circle", "tortoise sanctuary volunteers", "harbour choir for survivors"]
    with LoadLoop(url) as load:
        for n, marker in enumerate(markers):
            _add_doc(corpus, f"news/item{n}.md", f"News item {n}", f"Patients meet at the {marker} every week.")
            report = build_index(corpus, index_dir, embedder)
            assert report.added >= 1 and report.embedded >= 1
            deadline = time.monotonic() + WAIT
            while _top_doc(url, marker) != f"news/item{n}":
                assert time.monotonic() < deadline, f"{marker!r} never became searchable"
                time.sleep(0.2)
        _wait_until_all_workers_serve(url, report.version)
    assert load.failures == [], load.failures[:5]
    assert load.ok > 50, "the load loop hardly ran"
    # Every edit is live, not only the last one.
    for n, marker in enumerate(markers):
        assert _top_doc(url, marker) == f"news/item{n}"


def test_rollback_goes_live_like_a_publish(site):
    url, index_dir = site["url"], site["index"]
    live = current_version(index_dir)
    result = subprocess.run(
        [sys.executable, "-m", "service.cli", "rollback"],
        cwd=ROOT,
        env=_env(site["corpus"], index_dir),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    previous = current_version(index_dir)
    assert previous < live and previous in result.stdout
    _wait_until_all_workers_serve(url, previous)
    result = subprocess.run(
        [sys.executable, "-m", "service.cli", "rollback", "--to", live],
        cwd=ROOT,
        env=_env(site["corpus"], index_dir),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    _wait_until_all_workers_serve(url, live)


def test_builds_killed_at_random_points_never_leave_the_service_without_an_index(site):
    url, corpus, index_dir = site["url"], site["corpus"], site["index"]
    rng = random.Random()
    seed = rng.randrange(1_000_000)
    rng.seed(seed)
    with LoadLoop(url, threads=2) as load:
        for n in range(5):
            # New text every time, so each build has real embedding work to be killed in.
            _add_doc(
                corpus, f"killed/k{n}.md", f"Killed build {n}", f"Story {n} of a build that was killed.", sections=20
            )
            proc = subprocess.Popen(
                [sys.executable, "-m", "service.cli", "build", "-q"],
                cwd=ROOT,
                env=_env(corpus, index_dir),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            time.sleep(rng.uniform(0.3, 7.0))  # model load ~3 s, then embed, stage, publish
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            live = current_dir(index_dir)
            assert load_version(live).manifest.chunk_count > 0, f"seed {seed}, kill {n}"
            assert httpx.get(f"{url}/healthz", timeout=30).json()["version"] in {
                current_version(index_dir),
                *[p.name for p in (index_dir / "versions").iterdir()],
            }
        # A normal build afterwards publishes everything and the service picks it up.
        result = subprocess.run(
            [sys.executable, "-m", "service.cli", "build", "-q"],
            cwd=ROOT,
            env=_env(corpus, index_dir),
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stderr
        _wait_until_all_workers_serve(url, current_version(index_dir))
    assert load.failures == [], (seed, load.failures[:5])
    assert _top_doc(url, "Story 4 of a build that was killed") == "killed/k4"


def test_broken_file_keeps_the_live_index_and_names_the_file(site):
    url, corpus, index_dir = site["url"], site["corpus"], site["index"]
    live = current_version(index_dir)
    (corpus / "online").mkdir(exist_ok=True)
    (corpus / "online" / "broken.md").write_text("---\ntitle: Broken\nlinks: [oops\n---\nText\n")
    try:
        result = subprocess.run(
            [sys.executable, "-m", "service.cli", "build", "-q"],
            cwd=ROOT,
            env=_env(corpus, index_dir),
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 1
        assert "online/broken.md:3" in result.stderr and "Traceback" not in result.stderr
        assert current_version(index_dir) == live
        time.sleep(1.5)  # three poll intervals: nothing may have changed
        for _ in range(10):
            with httpx.Client(timeout=30) as fresh:
                assert fresh.get(f"{url}/healthz").json()["version"] == live
        assert _top_doc(url, "radioactive iodine diary") == "apps/mi-jian"
    finally:
        (corpus / "online" / "broken.md").unlink()
