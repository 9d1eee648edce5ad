"""Abuse limits: one pure ASGI middleware for header size, per-client rate and time per search, one for
request body size, and the per-worker search slots that bound concurrent model work."""

from __future__ import annotations

import asyncio
import ipaddress
import math
import threading
import time
from contextlib import contextmanager
from urllib.parse import parse_qs

from .feedback import MAX_BODY_BYTES as FEEDBACK_MAX_BODY_BYTES
from .schemas import error_body

# Only searches and feedback spend rate-limit tokens (see wants_search); pages, static files and /metrics do not.
# Where a rejection is labelled for metrics (service/metrics.py reads it: the route has not matched yet).
ROUTE_LABEL_KEY = "beacon.route"
# Room for the longest question the schema allows (4096 characters, up to 12 bytes each percent-encoded),
# so schema violations get their 422 from validation; anything longer is no question.
MAX_URL_BYTES = 65536


class TokenBucket:
    """Per-client buckets refilled at `per_minute`, holding at most `burst`; a few dict operations per call."""

    def __init__(self, per_minute: int, burst: int, max_clients: int = 100_000):
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.max_clients = max_clients
        self.buckets: dict[str, tuple[float, float]] = {}  # client → (tokens, last refill)

    def take(self, client: str, now: float) -> float:
        """0 when the request may go ahead, else the seconds until a token is free."""
        tokens, last = self.buckets.get(client, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens >= 1:
            if len(self.buckets) >= self.max_clients and client not in self.buckets:
                self._forget_full(now)
            self.buckets[client] = (tokens - 1, now)
            return 0.0
        self.buckets[client] = (tokens, now)
        return (1 - tokens) / self.rate

    def blocked(self, client: str, now: float) -> bool:
        """True when `client` has no token left; takes none (for counting failures only)."""
        tokens, last = self.buckets.get(client, (self.burst, now))
        return tokens + (now - last) * self.rate < 1

    def _forget_full(self, now: float) -> None:
        # Memory stays bounded under a spray of addresses: drop clients whose bucket has refilled.
        full = [c for c, (t, last) in self.buckets.items() if t + (now - last) * self.rate >= self.burst]
        for c in full or list(self.buckets)[: len(self.buckets) // 2]:
            del self.buckets[c]


def proxy_networks(trusted_proxies) -> tuple:
    """Addresses and CIDR ranges (10.0.0.0/8, fd00::/8) of the proxies whose X-Forwarded-For is believed."""
    return tuple(ipaddress.ip_network(p.strip(), strict=False) for p in trusted_proxies if p.strip())


def hop_address(hop: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An address from a hop as proxies write it: 1.2.3.4, 1.2.3.4:5678, [2001:db8::1]:443, 2001:db8::1."""
    hop = hop.strip().strip('"')
    if hop.startswith("["):
        hop = hop[1:].split("]", 1)[0]
    elif hop.count(":") == 1:  # IPv4 with a port; a bare IPv6 address has at least two colons
        hop = hop.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(hop.split("%", 1)[0])
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


def _bucket_key(address) -> str:
    # One IPv6 subscriber usually holds a whole /64: one bucket per /64, or each request buys a fresh one.
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def client_ip(scope, trusted_proxies) -> str:
    """The client's rate-limit key: the peer address, or, when the peer is a trusted proxy, the first
    untrusted hop walking X-Forwarded-For from the right.

    All X-Forwarded-For header lines are joined in order (a client may send its own forged line and
    haproxy's `option forwardfor` appends another). Hops that are not addresses (`unknown`, garbage)
    end the walk: what lies left of them cannot be trusted either."""
    networks = trusted_proxies if isinstance(trusted_proxies, tuple) else proxy_networks(trusted_proxies)
    peer_text = (scope.get("client") or ("unknown", 0))[0]
    peer = hop_address(peer_text)
    if peer is None:
        return peer_text
    if not any(peer in n for n in networks):
        return _bucket_key(peer)
    hops = [
        h
        for name, value in scope["headers"]
        if name == b"x-forwarded-for"
        for h in value.decode("latin-1").split(",")
        if h.strip()
    ]
    client = peer
    for hop in reversed(hops):
        address = hop_address(hop)
        if address is None:
            break
        client = address
        if not any(address in n for n in networks):
            break
    return _bucket_key(client)


def wants_search(scope) -> bool:
    """What spends a rate-limit token: a search costs model time (/api/search always, the page only with a
    non-blank question), and feedback shares the searches' bucket so one client cannot flood the log."""
    if scope["path"] in ("/api/search", "/api/feedback"):
        return True
    if scope["path"] != "/":
        return False
    return any(value.strip() for value in parse_qs(scope["query_string"].decode("latin-1")).get("q", []))


class SearchBusy(Exception):
    """Every search slot of this worker is taken; the app answers 503 with Retry-After."""

    def __init__(self):
        super().__init__("Beacon is busy right now; try again in a moment")


class SearchSlots:
    """At most `limit` searches that run the model at once per worker; a cache hit needs none.

    Taken around the search itself (in the thread pool), so the slot is held exactly as long as
    the model works, including after a timeout has already answered the client."""

    def __init__(self, limit: int):
        self.limit = limit
        self.in_use = 0
        self._lock = threading.Lock()

    @contextmanager
    def slot(self):
        with self._lock:
            if self.in_use >= self.limit:
                raise SearchBusy()
            self.in_use += 1
        try:
            yield
        finally:
            with self._lock:
                self.in_use -= 1


async def _reply(
    send, status: int, detail: str, retry_after: int | None = None, page=None, hint: str | None = None
) -> None:
    """The JSON error shape of the API, or, with `page` (status, message → HTML), the error page."""
    if page is not None:
        headers = [(b"content-type", b"text/html; charset=utf-8")]
        body = page(status, detail).encode()
    else:
        headers = [(b"content-type", b"application/json")]
        body = error_body(detail, hint)
    if retry_after is not None:
        headers.append((b"retry-after", str(retry_after).encode()))
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


# Request bodies, per route: refused from Content-Length before the app runs, and counted while a body
# without one (chunked) streams in. /api/feedback read a whole 300 MB body before its own 8 KB check and
# took a worker from 334 MB to 851 MB (issue 21, M4; measured here: 349 -> 540 MB before, 348 -> 348 MB
# with this). No route takes an upload; the default leaves room for an admin form.
MAX_BODY_BYTES = 65536
BODY_LIMITS = {"/api/feedback": FEEDBACK_MAX_BODY_BYTES}


async def reply_rendered(send, render, scope, status: int, message: str) -> None:
    """An error answered by a middleware: JSON for /api/, the error page otherwise (render: the app's)."""
    content_type, body = render(scope, status, message)
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class _BodyTooLarge(Exception):
    """Raised into the app from receive(): it stops reading a body that has passed the cap."""


class BodyLimit:
    """413 for a body over its route's cap (BODY_LIMITS, else MAX_BODY_BYTES), before more of it is read.

    Innermost, around the router: the refusal is sent from receive() the moment the cap is passed, and
    whatever the app makes of the stopped read (an exception, its own error) is dropped."""

    def __init__(self, app, render, limits: dict[str, int] = BODY_LIMITS, default: int = MAX_BODY_BYTES):
        self.app = app
        self.render = render
        self.limits = limits
        self.default = default

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self.limits.get(scope["path"], self.default)
        message = f"the request body is larger than {limit} bytes, the most {scope['path']} takes"
        declared = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        if declared is not None and declared.strip().isdigit() and int(declared) > limit:
            return await reply_rendered(send, self.render, scope, 413, message)
        seen = {"bytes": 0, "started": False, "refused": False}

        async def counting_receive():
            event = await receive()
            if event["type"] == "http.request":
                seen["bytes"] += len(event.get("body", b""))
                if seen["bytes"] > limit:
                    if not seen["started"]:
                        seen["refused"] = True
                        await reply_rendered(send, self.render, scope, 413, message)
                    raise _BodyTooLarge()
            return event

        async def watching_send(event):
            if seen["refused"]:
                return
            seen["started"] = seen["started"] or event["type"] == "http.response.start"
            await send(event)

        try:
            await self.app(scope, counting_receive, watching_send)
        except Exception:
            if not seen["refused"]:
                raise


class AbuseGuard:
    """Rejects quickly instead of queueing: 431 for huge headers, 429 past the rate, 503 when busy or too slow."""

    def __init__(
        self,
        app,
        *,
        rate_limit_per_minute: int,
        rate_limit_burst: int,
        trusted_proxies: list[str],
        request_timeout_s: float,
        max_header_bytes: int,
        error_page=None,
    ):
        self.app = app
        self.bucket = TokenBucket(rate_limit_per_minute, rate_limit_burst) if rate_limit_per_minute else None
        self.trusted = proxy_networks(trusted_proxies)
        self.error_page = error_page  # (status, message) → HTML, for refusals of the question page
        self.timeout = request_timeout_s
        self.max_header_bytes = max_header_bytes
        self._pending: set[asyncio.Task] = set()  # keeps timeout replies alive until sent

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if len(scope["query_string"]) + len(scope.get("raw_path") or b"") > MAX_URL_BYTES:
            return await _reply(send, 414, f"the address is longer than {MAX_URL_BYTES} bytes")
        if sum(len(k) + len(v) for k, v in scope["headers"]) > self.max_header_bytes:
            return await _reply(send, 431, f"request headers are larger than {self.max_header_bytes} bytes")
        if not wants_search(scope):
            return await self.app(scope, receive, send)
        # The concurrency bound is SearchSlots, taken by the search itself, so a cache hit needs no slot.
        if self.bucket is not None:
            wait = self.bucket.take(client_ip(scope, self.trusted), time.monotonic())
            if wait:
                scope[ROUTE_LABEL_KEY] = scope["path"]
                page = self.error_page if scope["path"] == "/" else None
                return await _reply(
                    send,
                    429,
                    "too many searches from your address; wait a moment and try again",
                    retry_after=max(1, math.ceil(wait)),
                    page=page,
                )
        await self._with_timeout(scope, receive, send)

    async def _with_timeout(self, scope, receive, send):
        """Answer 503 if the app has not started its response in time.

        A timer, not a task per request (that costs tens of microseconds): the app keeps running in
        this task until its search thread is done, which Python cannot interrupt, and what it sends
        after the 503 is dropped. Its concurrency slot stays taken until then, so the bound stays true."""
        state = {"started": False, "timed_out": False}

        async def guarded_send(message):
            if state["timed_out"]:
                return
            state["started"] = True
            await send(message)

        async def give_up():
            if not state["started"]:
                state["timed_out"] = True
                scope[ROUTE_LABEL_KEY] = scope["path"]
                page = self.error_page if scope["path"] == "/" else None
                await _reply(
                    send,
                    503,
                    f"the search took longer than {self.timeout:g}s; try a shorter question",
                    retry_after=1,
                    page=page,
                )

        loop = asyncio.get_running_loop()

        def fire():
            task = loop.create_task(give_up())
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

        timer = loop.call_later(self.timeout, fire)
        try:
            await self.app(scope, receive, guarded_send)
        finally:
            timer.cancel()
