"""The background poller: a damaged published version is refused, logged once, and the old one keeps serving."""

from __future__ import annotations

import logging
import shutil
import time

import httpx
import pytest

from index import build_index, current_version
from index.publish import VERSIONS, set_current
from service.app import create_app
from tests.helpers import LiveServer, make_settings, write_corpus

pytestmark = pytest.mark.server  # starts real uvicorn servers


def test_failed_load_keeps_the_old_index_and_logs_why(tiny_corpus, tmp_path, embedder, caplog):
    index_dir = tmp_path / "idx"
    good = build_index(tiny_corpus, index_dir, embedder).version
    settings = make_settings(index_dir, tiny_corpus, reload_interval=0.2)
    with LiveServer(create_app(settings, embedder=embedder)) as server, httpx.Client(base_url=server.url) as client:
        bad = "v99999999T000000000000Z"
        shutil.copytree(index_dir / VERSIONS / good, index_dir / VERSIONS / bad)
        (index_dir / VERSIONS / bad / "vectors.faiss").write_bytes(b"damaged")
        with caplog.at_level(logging.ERROR, logger="beacon"):
            set_current(index_dir, bad)
            deadline = time.monotonic() + 30
            while not any(bad in r.getMessage() for r in caplog.records):
                assert time.monotonic() < deadline, "the failed load was not logged"
                time.sleep(0.1)
            time.sleep(1)  # several more polls: the same bad version is not retried
        failures = [r for r in caplog.records if bad in r.getMessage()]
        assert len(failures) == 1 and "damaged" in failures[0].getMessage() and good in failures[0].getMessage()
        assert client.get("/healthz").json()["version"] == good
        assert client.get("/api/search", params={"q": "I-131 diary"}).status_code == 200
        # Publishing a good version afterwards is picked up as usual.
        write_corpus(tiny_corpus, {"later.md": "---\ntitle: Later\n---\nThe heron painting class.\n"})
        fixed = build_index(tiny_corpus, index_dir, embedder).version
        deadline = time.monotonic() + 30
        while client.get("/healthz").json()["version"] != fixed:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert current_version(index_dir) == fixed
