"""Each worker process watches the CURRENT pointer and swaps a newly published index in live."""

from __future__ import annotations

import logging
import threading

from .live import LiveIndex

log = logging.getLogger("beacon.reload")


class IndexPoller:
    """A daemon thread that reads CURRENT every `interval` seconds (one small file read) and lets
    LiveIndex load and swap a new version. Polling, rather than inotify, works the same on every
    filesystem and in every worker process, and a second's delay is fine for curators."""

    def __init__(self, live: LiveIndex, interval: float):
        self.live = live
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="beacon-index-poller", daemon=True)

    def start(self) -> "IndexPoller":
        if self.interval > 0:
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.live.refresh()
            except Exception:  # the poller must outlive any surprise; the old index keeps serving
                log.exception("index refresh failed; still serving %s", self.live.searcher.version)
