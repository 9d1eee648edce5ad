"""Test helpers shared by many modules: paths, the tiny corpus, a free port, a live uvicorn server, settings.

Fixtures live in conftest.py; plain functions and classes live here so test modules import them by name.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = ROOT / "corpus"
# A small made-up guide of the shipped one's shape, for the tests that need a guide but not its words.
GUIDE_CORPUS = ROOT / "tests/fixtures/guide"
ARTIFACTS = ROOT / "test-artifacts"
# In-process clients name a host the service allows (BEACON_ALLOWED_HOSTS), as a real browser on 127.0.0.1 does.
LOCAL = "http://127.0.0.1"

TINY = {
    "apps/mi-jian.md": """\
        ---
        title: Mi Jian app
        aliases: [觅健]
        links:
          - text: Example link
            url: https://example.org/mijian
        tags: [app]
        last_reviewed: 2026-11-01
        ---
        Mi Jian (觅健) is an app where cancer patients gather in communities.

        ## What you will find
        Patients post I-131 radioactive iodine therapy diaries and surgery stories. Doctors answer questions online.
        """,
    "offline/hospital.md": """\
        ---
        title: Hospital patient sessions
        aliases: [患教会]
        links: []
        tags: [offline]
        last_reviewed: 2026-11-01
        ---
        Large hospitals hold rehabilitation lectures where you can meet local patients in person.
        """,
    "notes.txt": """\
        Eating well after surgery

        Some groups talk mostly about food after the operation.
        """,
}


def write_corpus(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """A real uvicorn server on 127.0.0.1 running in a thread of the test process."""

    def __init__(self, app):
        import uvicorn

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # proxy_headers=False as in `beacon serve`: Beacon's own trusted_proxies setting decides about X-Forwarded-For.
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", access_log=False, proxy_headers=False
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self):
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(timeout=10)


def make_settings(index_dir: Path, corpus_dir: Path = DEFAULT_CORPUS, **extra):
    from service.settings import Settings

    # Tests hammer one loopback client; rate limiting is off unless a test asks for it.
    extra.setdefault("rate_limit_per_minute", 0)
    return Settings(index_dir=index_dir, corpus_dir=corpus_dir, **extra)


CHROMIUM = "/usr/bin/chromium"  # Debian's package (make browser); never `playwright install`
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def copy_index(src: Path, dst: Path) -> Path:
    """A writable copy: published versions are read-only, and tests damage copies on purpose."""
    shutil.copytree(src, dst)
    for p in [dst, *dst.rglob("*")]:
        p.chmod(p.stat().st_mode | 0o200)
    return dst


# --- `beacon` as a separate process: what only a real command shows (exit codes, signals, workers) ---


def beacon_env(**extra) -> dict:
    """The environment of a `beacon` subprocess: this checkout's code, offline, plus BEACON_* extras."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    env.update({k: str(v) for k, v in extra.items()})
    return env


def run_beacon(*args, env: dict | None = None, timeout: float = 180, **popen) -> subprocess.CompletedProcess:
    """`beacon ARGS...` to the end, its stdout and stderr kept apart (`popen`: e.g. preexec_fn)."""
    return subprocess.run(
        [sys.executable, "-m", "service.cli", *args],
        cwd=ROOT,
        env=env or beacon_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        **popen,
    )


def ctrl_c_stops_it() -> None:
    """A Popen preexec_fn: SIGINT back at its default in the child, so Python turns it into Ctrl+C.

    A shell starts a background job (`make test &`) with SIGINT ignored, a child inherits that, and a
    test that stops `beacon build --watch` with SIGINT would then wait for a process that never hears it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_beacon(*args, env: dict | None = None, stdout=subprocess.PIPE) -> subprocess.Popen:
    """`beacon ARGS...` started in the background, stderr joined to stdout (a pipe unless given); SIGINT
    stops it as Ctrl+C would (ctrl_c_stops_it)."""
    return subprocess.Popen(
        [sys.executable, "-m", "service.cli", *args],
        cwd=ROOT,
        env=env or beacon_env(),
        stdout=stdout,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=ctrl_c_stops_it,
    )


def wait_until_ok(
    proc: subprocess.Popen,
    url: str,
    path: str = "/healthz",
    seconds: float = 150,
    output: Callable[[], str] | None = None,
) -> None:
    """Until GET url+path answers 200. If the process exits or time runs out: kill it and fail with
    its output (`output()`, else its stdout pipe)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(url + path, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            shown = output() if output else (proc.stdout.read() if proc.stdout else "")
            raise AssertionError(f"server did not answer {path} (rc {proc.poll()}):\n{shown}")
        time.sleep(0.2)
