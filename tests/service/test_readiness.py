"""/healthz is liveness, /readyz readiness; a replica's storage problems show in /healthz?verbose (admin) and /metrics."""

from __future__ import annotations

import secrets
import time

import pytest
from fastapi.testclient import TestClient

from tests.helpers import GUIDE_CORPUS, LOCAL, TINY, make_settings, write_corpus


def test_readyz_is_200_once_warmed_and_503_while_draining(guide_index, embedder):
    from service.app import create_app

    app = create_app(make_settings(guide_index, GUIDE_CORPUS), embedder=embedder)
    with TestClient(app, base_url=LOCAL) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 200 and ready.json()["status"] == "ready"
        assert ready.json()["version"] == client.get("/healthz").json()["version"]
        app.state.beacon.readiness.draining = True  # what SIGTERM does first (service/readiness.py)
        draining = client.get("/readyz")
        assert draining.status_code == 503 and draining.json()["status"] == "draining"
        health = client.get("/healthz")
        assert health.status_code == 200 and health.json()["ready"] is False  # still alive, still answering
        assert client.get("/api/search", params={"q": "H-alpha"}).status_code == 200


def test_readyz_is_not_ready_before_startup(guide_index, embedder):
    from service.app import create_app

    app = create_app(make_settings(guide_index, GUIDE_CORPUS), embedder=embedder)
    assert app.state.beacon.readiness.ready is False


@pytest.fixture
def published(tmp_path, embedder):
    from index import build_index
    from index.remote import publish_version

    corpus = write_corpus(tmp_path / "corpus", TINY)
    build_index(corpus, tmp_path / "build", embedder)
    live = tmp_path / "build" / "versions" / (tmp_path / "build" / "CURRENT").read_text().strip()
    bucket = tmp_path / "bucket"
    return publish_version(live, f"file://{bucket}"), bucket


def test_a_replica_downloads_at_start_and_reports_unreachable_storage_while_serving_on(published, tmp_path, embedder):
    from service.app import create_app

    version, bucket = published
    token = secrets.token_urlsafe(32)
    admin = {"Authorization": f"Bearer {token}"}  # the remote's state is for operators (/healthz?verbose)
    settings = make_settings(
        tmp_path / "replica", index_url=f"file://{bucket}", remote_poll_interval=0.05, admin_token=token
    )
    with TestClient(create_app(settings, embedder=embedder), base_url=LOCAL) as client:
        health = client.get("/healthz?verbose=1", headers=admin).json()
        assert health["version"] == version and health["remote"]["reachable"] is True
        assert "remote" not in client.get("/healthz").json()
        assert "beacon_remote_reachable 1.0" in client.get("/metrics").text

        # Storage breaks: CURRENT can no longer be read (a folder where the object was).
        (bucket / "CURRENT").unlink()
        (bucket / "CURRENT").mkdir()
        deadline = time.monotonic() + 30
        while client.get("/healthz?verbose=1", headers=admin).json()["remote"]["reachable"] is not False:
            assert time.monotonic() < deadline, "the replica never noticed"
            time.sleep(0.05)
        health = client.get("/healthz?verbose=1", headers=admin).json()
        assert health["version"] == version and health["remote"]["error"]
        assert "beacon_remote_reachable 0.0" in client.get("/metrics").text
        assert client.get("/readyz").status_code == 200  # serving what it has is still serving
        assert client.get("/api/search", params={"q": "I-131 diary"}).json()["results"]

    # A restart while storage is still broken starts on the local copy and says so.
    restarted = make_settings(
        tmp_path / "replica", index_url=f"file://{bucket}", remote_startup_timeout=0.5, admin_token=token
    )
    with TestClient(create_app(restarted, embedder=embedder), base_url=LOCAL) as client:
        health = client.get("/healthz?verbose=1", headers=admin).json()
        assert health["version"] == version and health["remote"]["reachable"] is False
        assert client.get("/readyz").status_code == 200


def test_a_replica_with_nothing_to_download_gives_up_at_start_with_a_hint(tmp_path):
    from index import IndexMissingError
    from index.remote import RemoteMirror
    from service.live import RemoteStatus, first_sync

    url = f"file://{tmp_path}/empty-bucket"
    with pytest.raises(IndexMissingError, match="no index could be downloaded") as e:
        first_sync(RemoteMirror(url, tmp_path / "replica", keep=2), RemoteStatus(url), interval=0.1, timeout=0.5)
    assert "publish-to" in e.value.hint


def test_next_wait_backs_off_with_jitter():
    from service.live import next_wait

    waits = [next_wait(10, 0) for _ in range(200)]
    assert 5 <= min(waits) and max(waits) <= 15 and len(set(waits)) > 100  # spread, not lockstep
    assert all(20 <= next_wait(10, 2) <= 60 for _ in range(50))  # doubled per failure: 40 s +-50%
    assert max(next_wait(10, 30) for _ in range(50)) <= 300 * 1.5  # capped


@pytest.mark.server
def test_sigterm_turns_readyz_503_while_requests_are_still_answered_then_exits_0(guide_index):
    import signal

    import httpx

    from tests.helpers import beacon_env, free_port, start_beacon, wait_until_ok

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = start_beacon(
        "serve",
        "--no-build",
        "--index",
        str(guide_index),
        "--corpus",
        str(GUIDE_CORPUS),
        "--port",
        str(port),
        env=beacon_env(BEACON_RATE_LIMIT_PER_MINUTE=0, BEACON_DRAIN_S=8, BEACON_LOG_FORMAT="text"),
    )
    try:
        wait_until_ok(proc, url, "/readyz", seconds=120)
        with httpx.Client(base_url=url, timeout=10) as c:
            proc.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 6  # well inside the 8 s drain, with room for a loaded CI machine
            while (ready := c.get("/readyz")).status_code == 200:
                assert time.monotonic() < deadline, "still ready after SIGTERM"
                time.sleep(0.05)
            assert ready.json()["status"] == "draining"
            assert c.get("/healthz").status_code == 200  # alive while draining
            assert c.get("/api/search", params={"q": "H-alpha log"}).status_code == 200
        assert proc.wait(timeout=40) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        out = proc.stdout.read()
    assert "Traceback" not in out, out
