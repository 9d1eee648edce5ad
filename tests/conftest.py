"""Shared fixtures: the real model, a tiny corpus, built indexes (once per session) and live servers."""

from __future__ import annotations

import os
import shutil
import socket
import textwrap
import threading
import time
from pathlib import Path

import httpx
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = ROOT / "corpus"
ARTIFACTS = ROOT / "test-artifacts"

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


@pytest.fixture(scope="session")
def embedder():
    from index import Embedder

    return Embedder()


@pytest.fixture
def tiny_corpus(tmp_path) -> Path:
    return write_corpus(tmp_path / "corpus", TINY)


@pytest.fixture(scope="session")
def default_index(tmp_path_factory, embedder) -> Path:
    """The shipped corpus, built once for the session."""
    from index import build_index

    index_dir = tmp_path_factory.mktemp("default-index")
    build_index(DEFAULT_CORPUS, index_dir, embedder)
    return index_dir


class LiveServer:
    """A real uvicorn server on 127.0.0.1 running in a thread of the test process."""

    def __init__(self, app):
        import uvicorn

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # proxy_headers=False as in `beacon serve`: Beacon's own trusted_proxies setting decides about X-Forwarded-For.
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", access_log=False,
                                proxy_headers=False)
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


@pytest.fixture(scope="session")
def live_server(default_index, embedder):
    """The service on the default corpus, shared by the HTTP and browser tests."""
    from service.app import create_app

    with LiveServer(create_app(make_settings(default_index), embedder=embedder)) as server:
        yield server


@pytest.fixture(scope="session")
def client(live_server):
    with httpx.Client(base_url=live_server.url, timeout=30) as c:
        yield c


CHROMIUM = "/usr/bin/chromium"  # Debian's package (make browser); never `playwright install`
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    """One chromium for the session: Playwright's sync API allows one running instance per thread."""
    from playwright.sync_api import sync_playwright

    # launch() gives every browser a fresh, temporary profile (user-data dir), removed on close.
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def copy_index(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst
