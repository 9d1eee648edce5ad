"""Slowloris and idle connections against a real uvicorn server with `beacon serve`'s connection options."""

from __future__ import annotations

import socket
import threading
import time

import httpx
import pytest

from tests.helpers import GUIDE_CORPUS, free_port, make_settings

pytestmark = pytest.mark.server  # starts a real uvicorn server


@pytest.fixture
def server(guide_index, embedder):
    import uvicorn

    from service.app import create_app
    from service.connections import DEFAULT_HEADER_TIMEOUT_S, configure, uvicorn_options

    settings = make_settings(
        guide_index, GUIDE_CORPUS, header_timeout_s=1.0, keep_alive_timeout_s=1.0, max_connections=30
    )
    port = free_port()
    config = uvicorn.Config(
        create_app(settings, embedder=embedder),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        proxy_headers=False,
        **uvicorn_options(settings),
    )
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    for _ in range(600):
        if srv.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", port
    srv.should_exit = True
    thread.join(timeout=10)
    configure(DEFAULT_HEADER_TIMEOUT_S)


def closed_by_server(sock: socket.socket) -> bool:
    """True once the server has closed the connection (recv gives b'' or the connection is reset)."""
    try:
        sock.setblocking(False)
        return sock.recv(65536) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def test_idle_and_half_sent_connections_are_closed_and_the_service_still_answers(server):
    url, port = server
    idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(10)]
    slow = [socket.create_connection(("127.0.0.1", port)) for _ in range(10)]
    for s in slow:
        s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    kept_alive = socket.create_connection(("127.0.0.1", port))
    kept_alive.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert b"200 OK" in kept_alive.recv(65536)
    everyone = idle + slow + [kept_alive]
    open_ = set(range(len(everyone)))
    try:
        for _ in range(200):  # bounded: at most ~60 s, and it stops as soon as all are closed
            for s in slow:  # slowloris: a header byte now and then, never the blank line
                try:
                    s.sendall(b"X")
                except OSError:
                    pass
            open_ = {i for i in open_ if not closed_by_server(everyone[i])}
            if not open_:
                break
            time.sleep(0.3)
        assert not open_, f"{len(open_)} of {len(everyone)} connections still open"
        assert httpx.get(url + "/healthz").status_code == 200
    finally:
        for s in everyone:
            s.close()


def test_connections_past_the_cap_get_a_quick_503(server):
    url, port = server
    held = [socket.create_connection(("127.0.0.1", port)) for _ in range(30)]
    try:
        statuses = []
        for _ in range(50):  # the server accepts the held connections in its own time; bounded wait
            statuses.append(httpx.get(url + "/healthz").status_code)
            if statuses[-1] == 503:
                break
            time.sleep(0.1)
        assert statuses[-1] == 503, statuses
    finally:
        for s in held:
            s.close()
    for _ in range(100):
        if httpx.get(url + "/healthz").status_code == 200:
            break
        time.sleep(0.1)
    else:
        pytest.fail("the service did not recover after the connections closed")
