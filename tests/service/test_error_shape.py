"""Every JSON error has one shape, {"detail", "hint"}, whichever layer answers it (as Datasette's test_error_shape).

The routes (app.py's handlers), the abuse guard (limits.py, before any route), the admin routes and the
error shield (an unexpected exception) all build it with schemas.error_body.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from index.errors import BuildInProgressError, IndexCorruptError, IndexWriteError
from ingest.errors import BeaconError, CorpusError
from service.query import QueryError
from tests.helpers import GUIDE_CORPUS, LOCAL, make_settings

TOKEN = "s3cret-Token-for-tests-0123456789"


def assert_shape(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"detail", "hint"}, body
    assert isinstance(body["detail"], str) and body["detail"]
    assert body["hint"] is None or (isinstance(body["hint"], str) and body["hint"])
    return body


@pytest.fixture(scope="module")
def client(guide_index, embedder):
    from service.app import create_app

    def boom():
        raise RuntimeError("unexpected")

    app = create_app(make_settings(guide_index, GUIDE_CORPUS, admin_token=TOKEN), embedder=embedder)
    app.add_api_route("/api/boom", boom)
    with TestClient(app, base_url=LOCAL, raise_server_exceptions=False) as c:
        yield c


def test_errors_of_every_layer_share_one_shape(client):
    # Validation and the routes' own checks.
    assert "empty" in assert_shape(client.get("/api/search", params={"q": " "}), 422)["detail"]
    assert_shape(client.get("/api/search"), 422)
    assert_shape(client.get("/api/search", params={"q": "x", "k": "many"}), 422)
    unknown = assert_shape(client.get("/api/search", params={"q": "x", "tag": "nope"}), 422)
    assert unknown["hint"]
    # The router.
    assert_shape(client.get("/api/nothing-here"), 404)
    assert_shape(client.post("/api/search", params={"q": "x"}), 405)
    # The abuse guard, before any route.
    assert_shape(client.get("/api/search", params={"q": "x"}, headers={"X-Fill": "a" * 20_000}), 431)
    # The admin routes.
    assert_shape(client.post("/admin/reload"), 401)
    assert_shape(client.post("/admin/reload", headers={"Authorization": "Bearer wrong-token-0123456789"}), 403)
    # The error shield: an unexpected exception.
    body = assert_shape(client.get("/api/boom"), 500)
    assert "unexpected" not in body["detail"]  # no internals to a reader


def test_the_rate_limits_refusal_has_the_shape_too(guide_index, embedder):
    from service.app import create_app

    app = create_app(
        make_settings(guide_index, GUIDE_CORPUS, rate_limit_per_minute=1, rate_limit_burst=1), embedder=embedder
    )
    with TestClient(app, base_url=LOCAL) as c:
        assert c.get("/api/search", params={"q": "thyroid"}).status_code == 200
        assert_shape(c.get("/api/search", params={"q": "thyroid"}), 429)


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (QueryError("the question is empty", "type a few words"), 422),
        (CorpusError("corpus/a.md", 3, "no title", "add title:"), 422),
        (IndexCorruptError("vectors.faiss is damaged", "run 'beacon build'"), 503),
        (BuildInProgressError("a build is running"), 409),
        (IndexWriteError("the disk is full"), 507),
        (BeaconError("something else"), 503),
    ],
)
def test_each_error_knows_its_status_and_keeps_its_hint(guide_index, embedder, error, status):
    from service.app import create_app

    def fail():
        raise error

    app = create_app(make_settings(guide_index, GUIDE_CORPUS), embedder=embedder)
    app.add_api_route("/api/fail", fail)
    with TestClient(app, base_url=LOCAL) as c:
        body = assert_shape(c.get("/api/fail"), status)
    assert body["detail"] == error.message and body["hint"] == error.hint
