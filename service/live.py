"""The index the service answers from: swappable as a whole while requests run, a per-worker cache in
front of its search, and the pollers that swap in each newly published version (local or from object storage)."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import OrderedDict
from contextlib import nullcontext
from pathlib import Path

from index import Embedder, Searcher, SearchResult, SearchSettings, current_version, load_version
from index.errors import IndexMissingError
from index.publish import VERSIONS, current_dir
from index.remote import RemoteMirror, safe_url
from index.store import StoredIndex, load_live
from ingest.errors import BeaconError

from .limits import SearchSlots

log = logging.getLogger("beacon.live")


class LiveIndex:
    """Holds one Searcher; a request takes a reference once and keeps it, so a swap never
    changes the index under a request that is already running."""

    def __init__(
        self, index_dir: Path, embedder: Embedder, settings: SearchSettings, stored: StoredIndex | None = None
    ):
        """`stored`: the live version already loaded (and hash-checked) by the caller, so a worker reads
        and verifies its files once at start-up, not twice (service.app.create_app_from_env)."""
        self.index_dir = Path(index_dir)
        self.embedder = embedder
        self.settings = settings
        self._lock = threading.Lock()
        self._failed: str | None = None  # a version that failed to load; versions never change, so not retried
        self.last_error: str | None = None
        self._searcher = Searcher(stored or load_live(self.index_dir), embedder, settings)

    @staticmethod
    def warm(searcher: Searcher) -> None:
        """One query through the whole path (model, FAISS, BM25, answer), so the first reader's
        question does not pay for cold caches, and a version that loads but cannot search is caught."""
        searcher.search("warm up", 1)

    def _dir(self, version: str | None) -> Path:
        return current_dir(self.index_dir) if version is None else self.index_dir / VERSIONS / version

    @property
    def searcher(self) -> Searcher:
        return self._searcher

    def refresh(self) -> bool:
        """Load the published version if it differs from the live one; True when swapped.

        A version that fails to load is logged and the old one keeps serving."""
        version = current_version(self.index_dir)
        if version is None or version in (self._searcher.version, self._failed):
            return False
        with self._lock:
            if version == self._searcher.version:
                return False
            try:
                fresh = Searcher(load_version(self._dir(version)), self.embedder, self.settings)
                self.warm(fresh)
            except Exception as e:  # keep serving whatever went wrong with the new files
                reason = " ".join(str(e).split())  # one log line, the hint included
                self._failed, self.last_error = version, f"could not load index {version}: {reason}"
                log.error("could not load index %s, still serving %s: %s", version, self._searcher.version, reason)
                return False
            # One assignment: a request that already took the old Searcher finishes on it, and
            # the old index is freed when the last such request drops its reference.
            self._searcher = fresh
            self._failed = self.last_error = None
            log.info("now serving index %s", version)
            return True


class CachedSearch:
    """Calls live.searcher.search, remembering the last `size` results.

    The key holds the index version, so a swapped index is never answered from the old one's
    results (its entries just age out). A search-as-you-type box and popular questions repeat
    the same text; a hit costs microseconds instead of a model run.
    """

    def __init__(self, live: LiveIndex, size: int, slots: SearchSlots | None = None):
        self.live = live
        self.size = size
        self.slots = slots  # taken only around a real search: a cache hit needs no slot (SearchBusy if none)
        self._results: OrderedDict[tuple, SearchResult] = OrderedDict()
        self._lock = threading.Lock()  # sync routes run in a thread pool

    def __call__(self, query: str, k: int, **options) -> SearchResult:
        searcher = self.live.searcher  # one reference for the whole request
        if self.size <= 0:
            with self._slot():
                return searcher.search(query, k, **options)
        key = (searcher.version, query, k, tuple(sorted(options.items())))
        with self._lock:
            result = self._results.get(key)
            if result is not None:
                self._results.move_to_end(key)
                return result
        with self._slot():
            result = searcher.search(query, k, **options)
        with self._lock:
            self._results[key] = result
            while len(self._results) > self.size:
                self._results.popitem(last=False)
        return result

    def _slot(self):
        return self.slots.slot() if self.slots is not None else nullcontext()


MAX_BACKOFF_S = 300.0


class _DaemonLoop:
    """A daemon thread running `_run` until stop(): the shape both pollers share."""

    def __init__(self, name: str):
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        raise NotImplementedError


class IndexPoller(_DaemonLoop):
    """A daemon thread that reads CURRENT every `interval` seconds (one small file read) and lets
    LiveIndex load and swap a new version. Polling, rather than inotify, works the same on every
    filesystem and in every worker process, and a second's delay is fine for curators."""

    def __init__(self, live: LiveIndex, interval: float):
        super().__init__("beacon-index-poller")
        self.live = live
        self.interval = interval

    def start(self) -> IndexPoller:
        return super().start() if self.interval > 0 else self

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.live.refresh()
            except Exception:  # the poller must outlive any surprise; the old index keeps serving
                log.exception("index refresh failed; still serving %s", self.live.searcher.version)


class RemoteStatus:
    """What /healthz and /metrics say about a replica's object storage (None where there is none)."""

    def __init__(self, url: str):
        self.url = url
        self.reachable: bool | None = None  # None until the first read
        self.last_success: float | None = None  # time.time() of the last good read of the pointer
        self.failures = 0  # consecutive
        self.last_error: str | None = None
        self._gauges = None

    def ok(self) -> None:
        self.reachable, self.last_success, self.failures, self.last_error = True, time.time(), 0, None
        self._export()

    def failed(self, error: str) -> None:
        self.reachable, self.failures, self.last_error = False, self.failures + 1, error
        self._export()

    def export_to(self, registry) -> None:
        """Gauges for /metrics (set on each change, as multiprocess mode reads values from files)."""
        from prometheus_client import Gauge

        self._gauges = (
            Gauge(
                "beacon_remote_reachable",
                "1 when this replica's last read of the remote index pointer worked.",
                multiprocess_mode="livemin",
                registry=registry,
            ),
            Gauge(
                "beacon_remote_last_success_timestamp_seconds",
                "Unix time of this replica's last good read of the remote index pointer.",
                multiprocess_mode="livemax",
                registry=registry,
            ),
        )
        self._export()

    def _export(self) -> None:
        if self._gauges is not None:
            self._gauges[0].set(0.0 if self.reachable is False else 1.0)
            self._gauges[1].set(self.last_success or 0.0)

    def as_dict(self) -> dict:
        return {
            "url": safe_url(self.url),
            "reachable": self.reachable,
            "last_success_age_s": None if self.last_success is None else round(time.time() - self.last_success, 1),
            "consecutive_failures": self.failures,
            "error": self.last_error,
        }


def next_wait(interval: float, failures: int, max_backoff: float = MAX_BACKOFF_S) -> float:
    """Seconds until the next read of the remote pointer: the interval, doubled per consecutive
    failure up to max_backoff, times a random 0.5-1.5 so a hundred replicas drift apart instead
    of reading (and, after an outage, retrying) in lockstep."""
    base = min(max_backoff, interval * (2 ** min(failures, 16)))
    return base * random.uniform(0.5, 1.5)


class RemotePoller(_DaemonLoop):
    """A daemon thread that mirrors the remote live version into the local folder (RemoteMirror)
    and then asks LiveIndex to swap it in. Unreachable storage is logged once per outage and shown
    in /healthz and /metrics; the replica keeps serving what it has. Without `live` (a site of a server
    file, service/sites.py) it only mirrors: the site's own IndexPoller swaps, while the site is loaded."""

    def __init__(self, mirror: RemoteMirror, live: LiveIndex | None, status: RemoteStatus, interval: float):
        super().__init__("beacon-remote-poller")
        self.mirror, self.live, self.status, self.interval = mirror, live, status, interval

    def _serving(self) -> str:
        return self.live.searcher.version if self.live is not None else f"the copy in {self.mirror.index_dir}"

    def poll_once(self) -> None:
        try:
            self.mirror.sync()
        except BeaconError as e:
            if self.status.failures == 0:
                log.error("index storage problem, still serving %s: %s", self._serving(), e.message)
            self.status.failed(e.message)
            return
        except Exception as e:  # the poller must outlive any surprise
            if self.status.failures == 0:
                log.exception("index storage problem, still serving %s", self._serving())
            self.status.failed(f"{type(e).__name__}: {e}")
            return
        if self.status.failures:
            log.info("index storage reachable again: %s", safe_url(self.status.url))
        self.status.ok()
        if self.live is not None:
            self.live.refresh()

    def _run(self) -> None:
        while not self._stop.wait(next_wait(self.interval, self.status.failures)):
            self.poll_once()


def first_sync(mirror: RemoteMirror, status: RemoteStatus, interval: float, timeout: float) -> None:
    """At start-up: download the remote live version, waiting up to `timeout` seconds for storage
    (or for another worker holding the download lock). A replica that already has a local version
    starts on it when storage is unreachable; one with nothing raises IndexMissingError."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            mirror.sync(repair=True)
            status.ok()
        except BeaconError as e:
            status.failed(e.message)
        if current_version(mirror.index_dir) is not None:
            if status.reachable is False:
                log.error("index storage unreachable at start-up, serving the local copy: %s", status.last_error)
            return
        if time.monotonic() >= deadline:
            raise IndexMissingError(
                f"no index could be downloaded from {safe_url(mirror.url)} within {timeout:g}s"
                + (f": {status.last_error}" if status.last_error else " (nothing published there yet?)"),
                "publish one with 'beacon build --publish-to URL', or check the URL and credentials",
            )
        time.sleep(min(next_wait(min(interval, 1.0), status.failures, 5.0), max(0.0, deadline - time.monotonic())))
