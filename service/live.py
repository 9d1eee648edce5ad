"""The index the service answers from, swappable as a whole while requests run."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from index import Embedder, Searcher, SearchSettings, current_version, load_version
from index.publish import VERSIONS, current_dir

log = logging.getLogger("beacon.live")


class LiveIndex:
    """Holds one Searcher; a request takes a reference once and keeps it, so a swap never
    changes the index under a request that is already running."""

    def __init__(self, index_dir: Path, embedder: Embedder, settings: SearchSettings):
        self.index_dir = Path(index_dir)
        self.embedder = embedder
        self.settings = settings
        self._lock = threading.Lock()
        self._failed: str | None = None  # a version that failed to load; versions never change, so not retried
        self.last_error: str | None = None
        self._searcher = Searcher(load_version(self._dir(current_version(self.index_dir))), embedder, settings)

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
