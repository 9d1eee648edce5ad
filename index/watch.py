"""`beacon build --watch`: rebuild whenever the corpus changes, debounced, until stopped."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from watchfiles import DefaultFilter, watch

from ingest import Site
from ingest.errors import BeaconError

from .build import KEEP_VERSIONS, BuildReport, build_index, corpus_fingerprint
from .embedder import Embedder

# Editors save in bursts (temp file, rename, metadata); one rebuild per burst is enough.
DEBOUNCE_MS = 1000


@dataclass(frozen=True)
class Watched:
    """One corpus to watch and the index it builds into; `name` is its site's (several sites in one watch)."""

    corpus_dir: Path
    index_dir: Path
    site: Site | None = None
    name: str = ""


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
    watch_and_build_sites(
        [Watched(Path(corpus_dir), Path(index_dir), site)],
        embedder,
        on_report=lambda _, report: on_report(report),
        on_error=lambda _, error: on_error(error),
        on_change=lambda _, paths: on_change(paths),
        keep=keep,
        progress=progress,
        stop=stop,
        debounce_ms=debounce_ms,
    )


def watch_and_build_sites(
    targets: list[Watched],
    embedder: Embedder,
    *,
    on_report: Callable[[Watched, BuildReport], None],
    on_error: Callable[[Watched, BeaconError], None],
    on_change: Callable[[Watched, list[str]], None] = lambda target, paths: None,
    keep: int = KEEP_VERSIONS,
    progress: bool = False,
    stop: threading.Event | None = None,
    debounce_ms: int = DEBOUNCE_MS,
) -> None:
    """watch_and_build for several corpora in one process (the sites of a server file, on one model): each is
    built once, then only a corpus that changed is rebuilt. A change under no corpus (a symlink's target,
    say) rebuilds all of them: each build finds the unchanged ones up to date."""
    roots = [t.corpus_dir.resolve() for t in targets]

    def build(target: Watched) -> None:
        try:
            on_report(
                target,
                build_index(
                    target.corpus_dir, target.index_dir, embedder, progress=progress, keep=keep, site=target.site
                ),
            )
        except BeaconError as e:
            on_error(target, e)

    def fingerprint(target: Watched) -> str:
        return corpus_fingerprint(target.corpus_dir, embedder.weights_sha256, embedder.max_tokens, target.site)

    before_first = [fingerprint(t) for t in targets]
    for target in targets:
        build(target)
    caught_up = False
    for changes in watch(
        *dict.fromkeys(roots),
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
                for target, before in zip(targets, before_first, strict=True):
                    if fingerprint(target) != before:
                        on_change(target, ["files saved during the first build"])
                        build(target)
            continue
        caught_up = True
        changed = [Path(p) for _, p in changes]
        placed = {p for p in changed for root in roots if p.is_relative_to(root)}
        for target, root in zip(targets, roots, strict=True):
            paths = {p.relative_to(root).as_posix() for p in changed if p.is_relative_to(root)}
            paths |= {str(p) for p in changed if p not in placed}
            if paths:
                on_change(target, sorted(paths))
                build(target)
