"""Connection limits for uvicorn: a deadline for each request head (slowloris), keep-alive and a connection cap.

uvicorn bounds idle keep-alive time (`timeout_keep_alive`) and, with `limit_concurrency`, answers 503
past a number of connections; it has no deadline for receiving a request's head. A connection that
sends nothing, or one header byte every few seconds, is kept open for ever (measured: 200 idle and
200 half-sent connections still open after 20 s). The protocol classes here add that deadline: from
the moment a connection opens, and again after each response, the next request head must be complete
within `header_timeout` seconds or the connection is closed. A request already being answered is
never cut off by it (request_timeout_s bounds the search)."""

from __future__ import annotations

from uvicorn.protocols.http.h11_impl import H11Protocol

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # httptools is optional in uvicorn; h11 is always there
    HttpToolsProtocol = None

DEFAULT_HEADER_TIMEOUT_S = 10.0


class _HeadDeadline:
    # A class attribute, not a constructor argument: uvicorn builds protocols itself, and with
    # --workers it pickles the class by name. Set per process by configure() (the app factory calls it).
    header_timeout = DEFAULT_HEADER_TIMEOUT_S
    _head_timer = None

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._arm_head_deadline()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm_head_deadline()

    def connection_lost(self, exc) -> None:
        self._disarm_head_deadline()
        super().connection_lost(exc)

    def _arm_head_deadline(self) -> None:
        self._disarm_head_deadline()
        if not self.transport.is_closing():
            self._head_timer = self.loop.call_later(self.header_timeout, self._head_overdue)

    def _disarm_head_deadline(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_overdue(self) -> None:
        self._head_timer = None
        if self.cycle is not None and not self.cycle.response_complete:
            return  # its head arrived and it is being answered
        if not self.transport.is_closing():
            self.transport.close()


class BeaconH11Protocol(_HeadDeadline, H11Protocol):
    pass


if HttpToolsProtocol is not None:

    class BeaconHttpToolsProtocol(_HeadDeadline, HttpToolsProtocol):
        pass

    HTTP_PROTOCOL = BeaconHttpToolsProtocol
else:
    HTTP_PROTOCOL = BeaconH11Protocol


def configure(header_timeout_s: float) -> None:
    """Set this process's head deadline (each worker runs the app factory, which calls this)."""
    _HeadDeadline.header_timeout = header_timeout_s


def uvicorn_options(settings) -> dict:
    """The connection settings `beacon serve` hands uvicorn; tests start real servers with the same."""
    configure(settings.header_timeout_s)
    return {
        "http": HTTP_PROTOCOL,
        "timeout_keep_alive": settings.keep_alive_timeout_s,
        "limit_concurrency": settings.max_connections,
        # h11's own cap on a request head's size (httptools has a fixed one); max_header_bytes gives the 431.
        "h11_max_incomplete_event_size": max(settings.max_header_bytes * 2, 65536),
    }
