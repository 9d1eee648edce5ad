"""Abuse limits in one pure ASGI middleware: header size, per-client rate, concurrency and time per search."""

from __future__ import annotations

import asyncio
import math
import time

import orjson

# Searches cost model time; pages, static files and /metrics do not, so only these are limited.
# Feedback shares the searches' bucket: one client cannot flood the log either.
SEARCH_PATHS = frozenset({"/api/search", "/", "/api/feedback"})
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

    def _forget_full(self, now: float) -> None:
        # Memory stays bounded under a spray of addresses: drop clients whose bucket has refilled.
        full = [c for c, (t, last) in self.buckets.items() if t + (now - last) * self.rate >= self.burst]
        for c in full or list(self.buckets)[: len(self.buckets) // 2]:
            del self.buckets[c]


def client_ip(scope, trusted_proxies: frozenset[str]) -> str:
    """The peer address, or the last untrusted X-Forwarded-For hop when the peer is a trusted proxy."""
    peer = (scope.get("client") or ("unknown", 0))[0]
    if peer not in trusted_proxies:
        return peer
    for name, value in scope["headers"]:
        if name == b"x-forwarded-for":
            hops = [h.strip() for h in value.decode("latin-1").split(",") if h.strip()]
            for hop in reversed(hops):
                if hop not in trusted_proxies:
                    return hop
    return peer


async def _reply(send, status: int, detail: str, retry_after: int | None = None) -> None:
    headers = [(b"content-type", b"application/json")]
    if retry_after is not None:
        headers.append((b"retry-after", str(retry_after).encode()))
    body = orjson.dumps({"detail": detail})
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class AbuseGuard:
    """Rejects quickly instead of queueing: 431 for huge headers, 429 past the rate, 503 when busy or too slow."""

    def __init__(self, app, *, rate_limit_per_minute: int, rate_limit_burst: int, trusted_proxies: list[str],
                 max_concurrent_searches: int, request_timeout_s: float, max_header_bytes: int):
        self.app = app
        self.bucket = TokenBucket(rate_limit_per_minute, rate_limit_burst) if rate_limit_per_minute else None
        self.trusted = frozenset(trusted_proxies)
        self.max_in_flight = max_concurrent_searches
        self.in_flight = 0
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
        if scope["path"] not in SEARCH_PATHS:
            return await self.app(scope, receive, send)
        if self.bucket is not None:
            wait = self.bucket.take(client_ip(scope, self.trusted), time.monotonic())
            if wait:
                return await _reply(send, 429, "too many searches from your address; wait a moment and try again",
                                    retry_after=max(1, math.ceil(wait)))
        if self.in_flight >= self.max_in_flight:
            return await _reply(send, 503, "Beacon is busy right now; try again in a moment", retry_after=1)
        self.in_flight += 1  # one event loop per worker: no lock needed between checks and updates
        try:
            await self._with_timeout(scope, receive, send)
        finally:
            self.in_flight -= 1

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
                await _reply(send, 503, f"the search took longer than {self.timeout:g}s; try a shorter question",
                             retry_after=1)

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
