"""Signing through the settings: `beacon build --publish-to` signs with BEACON_SIGNING_KEY_FILE, and a
replica started with the same setting serves the signed version; with another key it refuses to start."""

from __future__ import annotations

from concurrent.futures import CancelledError

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from tests.helpers import LOCAL, TINY, make_settings, write_corpus


def test_the_cli_signs_what_it_publishes_and_a_replica_with_the_key_serves_it(tmp_path, monkeypatch, embedder, caplog):
    from index.remote import SIGNATURE, remote_current
    from service.app import create_app
    from service.cli import main

    key = tmp_path / "signing.key"
    key.write_text("a3f1" * 16 + "\n")
    monkeypatch.setenv("BEACON_SIGNING_KEY_FILE", str(key))
    corpus = write_corpus(tmp_path / "corpus", TINY)
    bucket = tmp_path / "bucket"
    args = [
        "build",
        "-q",
        "--corpus",
        str(corpus),
        "--index",
        str(tmp_path / "idx"),
        "--publish-to",
        f"file://{bucket}",
    ]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    version = remote_current(f"file://{bucket}")
    assert (bucket / "versions" / version / SIGNATURE).is_file()

    settings = make_settings(tmp_path / "replica", index_url=f"file://{bucket}", signing_key_file=key)
    with TestClient(create_app(settings, embedder=embedder), base_url=LOCAL) as client:
        assert client.get("/healthz").json()["version"] == version
        assert client.get("/api/search", params={"q": "Mi Jian app"}).json()["results"]

    other = tmp_path / "other.key"
    other.write_text("77c0" * 16 + "\n")
    settings = make_settings(
        tmp_path / "new-pod", index_url=f"file://{bucket}", signing_key_file=other, remote_startup_timeout=0.5
    )
    with pytest.raises((SystemExit, CancelledError)), TestClient(create_app(settings, embedder=embedder)):
        pass  # the lifespan logs one line and exits: nothing verified to serve
    assert "cannot start" in caplog.text and "signature" in caplog.text and "does not match" in caplog.text
    assert not (tmp_path / "new-pod" / "CURRENT").exists()
