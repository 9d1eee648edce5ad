"""`beacon build --watch`: rebuild whenever the corpus changes, debounced, until stopped."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from watchfiles import DefaultFilter, watch

from ingest import Site
from ingest.errors import BeaconError

from .build import KEEP_VERSIONS, BuildReport, build_index, corpus_fingerprint
from .embedder import Embedder

# Editors save in bursts (temp file, rename, metadata); one rebuild per burst is enough.
DEBOUNCE_MS = 1000


def watch_and_build(
    corpus_dir: Path,
    index_dir: Path,
    embedder: Embedder,
    *,
    on_report: Callable[[BuildReport], None],
    on_error: Callable[[BeaconError], None],
    on_change: Callable[[list[str]], None] = lambda paths: None,
    keep: int = KEEP_VERSIONS,
    progress: bool = False,
    stop: threading.Event | None = None,
    debounce_ms: int = DEBOUNCE_MS,
    site: Site | None = None,
) -> None:
    """Build once, then again after every burst of changes. A failed build (a broken file)
    is reported and the watch goes on; the live index stays as it was. Returns when `stop` is
    set; Ctrl+C raises KeyboardInterrupt to the caller."""
    corpus_dir, index_dir = Path(corpus_dir), Path(index_dir)

    def build() -> None:
        try:
            on_report(build_index(corpus_dir, index_dir, embedder, progress=progress, keep=keep, site=site))
        except BeaconError as e:
            on_error(e)

    def fingerprint() -> str:
        return corpus_fingerprint(corpus_dir, embedder.weights_sha256, embedder.max_tokens, site)

    before_first = fingerprint()
    build()
    caught_up = False
    for changes in watch(
        corpus_dir,
        watch_filter=DefaultFilter(),
        debounce=debounce_ms,
        stop_event=stop,
        raise_interrupt=True,
        rust_timeout=500,
        yield_on_timeout=True,
    ):
        if not changes:
            # The watcher sees only what changes after it starts; a save made while the first
            # build ran would be missed without this one look, taken once the watcher is running.
            if not caught_up:
                caught_up = True
                if fingerprint() != before_first:
                    on_change(["files saved during the first build"])
                    build()
            continue
        caught_up = True
        on_change(
            sorted(
                {
                    Path(p).relative_to(corpus_dir.resolve()).as_posix()
                    if Path(p).is_relative_to(corpus_dir.resolve())
                    else p
                    for _, p in changes
                }
            )
        )
        build()
