"""A per-worker LRU cache in front of the live index's search, for questions asked again."""

from __future__ import annotations

import threading
from collections import OrderedDict
from contextlib import nullcontext

from index import SearchResult

from .limits import SearchSlots
from .live import LiveIndex


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
