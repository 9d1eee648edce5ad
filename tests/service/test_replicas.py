"""Three replicas behind a real haproxy, fed from a "bucket" through fsspec (file://), survive three
rollouts and a SIGKILL under load without one failed request (issue 13)."""

from __future__ import annotations

import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.helpers import TINY, beacon_env, free_port, start_beacon, wait_until_ok, write_corpus

pytestmark = pytest.mark.server

TAGS = ["alpha", "bravo", "charlie", "delta"]  # one per published version, so each answer names its version
ROLLOUT_SECONDS = 30  # every replica serves the newest version this soon after it is published (polls every ~0.5 s)
QUESTION = "which release marker does this index carry"


def _release(tag: str) -> str:
    return (
        f"---\ntitle: Release notes\n---\nThis index carries the release marker {tag}. Marker {tag} names this build.\n"
    )


class Replica:
    def __init__(self, name: str, index_dir: Path, bucket_url: str, log_dir: Path):
        self.name, self.index_dir, self.bucket_url = name, index_dir, bucket_url
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log_dir / f"{name}.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = start_beacon(
            "serve",
            "--index",
            str(self.index_dir),
            "--port",
            str(self.port),
            stdout=open(self.log, "a"),
            env=beacon_env(
                BEACON_RATE_LIMIT_PER_MINUTE=0,
                BEACON_LOG_FORMAT="text",
                BEACON_INDEX_URL=self.bucket_url,
                BEACON_REMOTE_POLL_INTERVAL="0.5",
                BEACON_RELOAD_INTERVAL="0.5",
                BEACON_SHUTDOWN_GRACE_S="2",
            ),
        )

    def wait_ready(self, seconds: float = 120) -> None:
        wait_until_ok(self.proc, self.url, "/readyz", seconds, output=self.log.read_text)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _haproxy_config(port: int, replicas: list[Replica]) -> str:
    servers = "\n".join(f"    server {r.name} 127.0.0.1:{r.port} check" for r in replicas)
    # Readiness on /readyz every 300 ms; a request that meets a dead or refusing replica (the
    # SIGKILL) is retried once more on another one: GETs are safe to retry (docs/deploy.md).
    return f"""global
    maxconn 256
defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    retries 3
    option redispatch 1
    retry-on all-retryable-errors
frontend beacon
    bind 127.0.0.1:{port}
    default_backend replicas
backend replicas
    balance roundrobin
    option httpchk GET /readyz
    http-check expect status 200
    default-server inter 300ms fall 1 rise 2
{servers}
"""


def test_three_replicas_roll_out_three_versions_and_survive_a_sigkill_with_no_failed_request(tmp_path, embedder):
    from index import build_index
    from index.remote import publish_version

    assert shutil.which("haproxy"), "haproxy is installed by 'make system' (SYSTEM_PACKAGES)"
    corpus = write_corpus(tmp_path / "corpus", TINY)
    bucket = f"file://{tmp_path / 'bucket'}"
    build_dir = tmp_path / "build"
    published: dict[str, str] = {}  # version -> tag
    chunk_counts: dict[str, int] = {}

    def publish(tag: str) -> str:
        (corpus / "release.md").write_text(_release(tag))
        report = build_index(corpus, build_dir, embedder)
        live = build_dir / "versions" / report.version
        chunk_counts[report.version] = report.chunks  # before the pointer moves: the watcher may see it at once
        published[report.version] = tag
        publish_version(live, bucket)
        return report.version

    publish(TAGS[0])
    replicas = [Replica(f"r{i}", tmp_path / f"replica-{i}", bucket, tmp_path) for i in range(3)]
    lb_port = free_port()
    (tmp_path / "haproxy.cfg").write_text(_haproxy_config(lb_port, replicas))
    lb = None
    stop = threading.Event()
    failures: list[str] = []
    answers: list[str] = []
    health_problems: list[str] = []
    try:
        for r in replicas:
            r.start()
        for r in replicas:
            r.wait_ready()
        lb = subprocess.Popen(
            ["haproxy", "-db", "-f", str(tmp_path / "haproxy.cfg")],
            stdout=open(tmp_path / "haproxy.log", "w"),
            stderr=subprocess.STDOUT,
        )
        lb_url = f"http://127.0.0.1:{lb_port}"
        deadline = time.monotonic() + 30
        while True:  # every server passed its first checks (rise 2)
            try:
                if httpx.get(lb_url + "/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, (tmp_path / "haproxy.log").read_text()
            time.sleep(0.2)
        time.sleep(1)

        def load(worker: int) -> None:
            with httpx.Client(base_url=lb_url, timeout=30) as c:
                n = 0
                while not stop.is_set() and n < 200:
                    n += 1
                    try:
                        r = c.get("/api/search", params={"q": f"{QUESTION} {worker}-{n % 40}", "k": 3})
                    except httpx.TransportError as e:
                        failures.append(f"{type(e).__name__}: {e}")
                        continue
                    if r.status_code != 200:
                        failures.append(f"{r.status_code}: {r.text[:200]}")
                        continue
                    texts = [h["text"] for h in r.json()["results"] if h["title"] == "Release notes"]
                    answers.extend(texts)
                    time.sleep(0.02)

        def watch_health() -> None:
            """Each replica's /healthz: the version it serves is a published one, loaded whole."""
            while not stop.is_set():
                for r in replicas:
                    try:
                        h = httpx.get(r.url + "/healthz", timeout=2).json()
                    except (httpx.TransportError, ValueError):
                        continue  # the killed one, between death and restart
                    v = h["version"]
                    if v not in published or h.get("chunks", chunk_counts.get(v)) != chunk_counts.get(v):
                        health_problems.append(f"{r.name}: {h}")
                time.sleep(0.1)

        threads = [threading.Thread(target=load, args=(w,)) for w in range(3)] + [threading.Thread(target=watch_health)]
        for t in threads:
            t.start()

        publish(TAGS[1])
        time.sleep(1)
        victim = replicas[1]
        victim.proc.send_signal(signal.SIGKILL)
        victim.proc.wait()
        publish(TAGS[2])
        victim.start()
        newest = publish(TAGS[3])
        published_at = time.monotonic()
        caught_up: dict[str, float] = {}
        while len(caught_up) < len(replicas):
            assert time.monotonic() - published_at < ROLLOUT_SECONDS, (
                f"not every replica serves {newest} after {ROLLOUT_SECONDS}s: {caught_up}\n"
                + "\n".join(r.log.read_text()[-2000:] for r in replicas)
            )
            for r in replicas:
                try:
                    if r.name not in caught_up and httpx.get(r.url + "/healthz", timeout=2).json()["version"] == newest:
                        caught_up[r.name] = round(time.monotonic() - published_at, 1)
                except httpx.TransportError:
                    pass
            time.sleep(0.1)
        time.sleep(1)  # some load on the newest version everywhere
        stop.set()
        for t in threads:
            t.join(timeout=60)
        print(f"requests answered: {len(answers)}; seconds from publish to serving {newest}: {caught_up}")
    finally:
        stop.set()
        if lb is not None:
            lb.terminate()
            lb.wait(timeout=10)
        for r in replicas:
            r.stop()

    assert failures == [], failures[:10]
    assert not health_problems, health_problems[:5]
    assert len(answers) >= 100
    seen = {tag for tag in TAGS for text in answers if f"marker {tag}" in text}
    assert TAGS[0] in seen and TAGS[3] in seen, seen  # the rollout really happened under load
    for text in answers:  # every answer came from one whole version
        assert sum(f"marker {tag}" in text for tag in TAGS) == 1, text
    assert "Traceback" not in "".join(r.log.read_text() for r in replicas)
