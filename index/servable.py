"""Make sure an index folder has a version that can serve: the one rule `beacon serve` and a deployment
follow before answering (build when missing, stale or damaged; never for a replica)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ingest.site import Site

from .build import BuildReport, build_index, is_stale
from .embedder import Embedder
from .errors import IndexCorruptError, IndexMissingError
from .publish import current_version
from .store import load_live


def live_damage(index_dir: Path) -> str | None:
    """Why the live version cannot serve (a file fails its SHA-256, or does not load), or None."""
    try:
        load_live(index_dir)
    except IndexCorruptError as e:
        return e.message
    return None


def ensure_servable(
    corpus_dir: Path,
    index_dir: Path,
    model_sha256: str,
    embedder: Callable[[], Embedder],
    site: Site,
    keep: int,
    build: bool = True,
    say: Callable[[str], None] = print,
) -> BuildReport | None:
    """With `build`, build the index when it is missing, out of date or damaged (a damaged live version is
    named as such, docs/security.md) and return the report; without, refuse a missing or damaged one.
    `embedder` is called only when a build is needed, so a fresh index costs no model load here."""
    if not build:
        if current_version(index_dir) is None:
            raise IndexMissingError(f"no index in {index_dir}", "run 'beacon build' or drop --no-build")
        load_live(index_dir)  # a damaged index stops here with IndexCorruptError
        return None
    damage = live_damage(index_dir) if current_version(index_dir) else None
    if damage is None and not is_stale(corpus_dir, index_dir, model_sha256, site=site):
        return None
    say(
        f"Live index is damaged ({damage}); building a fresh one first."
        if damage is not None
        else "Index is missing or out of date; building it first."
    )
    return build_index(corpus_dir, index_dir, embedder(), progress=True, keep=keep, site=site)
