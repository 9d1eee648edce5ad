"""Shared fixtures: the real model, a tiny corpus, built indexes (once per session), live servers, the browser."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from tests.helpers import (  # noqa: E402
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    DEFAULT_CORPUS,
    GUIDE_CORPUS,
    LOCAL,
    TINY,
    LiveServer,
    make_settings,
    write_corpus,
)


@pytest.fixture(scope="session")
def embedder():
    from index import Embedder

    return Embedder()


@pytest.fixture
def tiny_corpus(tmp_path) -> Path:
    return write_corpus(tmp_path / "corpus", TINY)


@pytest.fixture(scope="session")
def default_index(tmp_path_factory, embedder) -> Path:
    """The shipped corpus, built once for the session: for the tests about the shipped guide itself (its
    search quality, its own words); the others use `guide_index`, so a curator's edit cannot break them."""
    from index import build_index

    index_dir = tmp_path_factory.mktemp("default-index")
    build_index(DEFAULT_CORPUS, index_dir, embedder)
    return index_dir


@pytest.fixture(scope="session")
def live_server(default_index, embedder):
    """The service on the shipped corpus (the screenshots show it); most HTTP and browser tests use `guide_server`."""
    from service.app import create_app

    with LiveServer(create_app(make_settings(default_index), embedder=embedder)) as server:
        yield server


@pytest.fixture(scope="session")
def app_client(default_index, embedder):
    """The same service in process (no socket); most in-process tests use `guide_app_client`."""
    from fastapi.testclient import TestClient

    from service.app import create_app

    with TestClient(create_app(make_settings(default_index), embedder=embedder), base_url=LOCAL) as c:
        yield c


@pytest.fixture(scope="session")
def client(live_server):
    with httpx.Client(base_url=live_server.url, timeout=30) as c:
        yield c


@pytest.fixture(scope="session")
def guide_index(tmp_path_factory, embedder) -> Path:
    """The small test guide (tests/fixtures/guide), built once for the session: for the tests of pages,
    the API and the widget, which need a curated guide but not the shipped one's wording."""
    from index import build_index

    index_dir = tmp_path_factory.mktemp("guide-index")
    build_index(GUIDE_CORPUS, index_dir, embedder)
    return index_dir


@pytest.fixture(scope="session")
def guide_server(guide_index, embedder):
    """The service on the test guide, on a real socket, shared by the HTTP and browser tests."""
    from service.app import create_app

    with LiveServer(create_app(make_settings(guide_index, GUIDE_CORPUS), embedder=embedder)) as server:
        yield server


@pytest.fixture(scope="session")
def guide_app_client(guide_index, embedder):
    """The service on the test guide in process (no socket): for the API, pages and middleware."""
    from fastapi.testclient import TestClient

    from service.app import create_app

    app = create_app(make_settings(guide_index, GUIDE_CORPUS), embedder=embedder)
    with TestClient(app, base_url=LOCAL) as c:
        yield c


@pytest.fixture(scope="session")
def guide_client(guide_server):
    with httpx.Client(base_url=guide_server.url, timeout=30) as c:
        yield c


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


# Layers of the suite: `pytest -m "not browser and not server"` is the quick loop; `make test` runs all.
# A test is marked by the fixtures it uses; modules that start servers themselves set `pytestmark`.
_MARK_BY_FIXTURE = {
    "browser": "browser",
    "live_server": "server",
    "client": "server",
    "guide_server": "server",
    "embedder": "model",
    "default_index": "model",
    "guide_index": "model",
}


def pytest_collection_modifyitems(items):
    for item in items:
        for fixture in getattr(item, "fixturenames", ()):
            mark = _MARK_BY_FIXTURE.get(fixture)
            if mark:
                item.add_marker(getattr(pytest.mark, mark))
