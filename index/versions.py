"""Published versions for curators: list them, and point CURRENT back at an earlier one."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from . import publish
from .errors import IndexCorruptError, IndexMissingError
from .store import Manifest, load_version, read_manifest


@dataclass(frozen=True)
class VersionInfo:
    version: str
    live: bool
    manifest: Manifest | None  # None when the version's files are incomplete or damaged


def describe_versions(index_dir: Path) -> list[VersionInfo]:
    """Every published version, oldest first, with the live one marked."""
    index_dir = Path(index_dir)
    live = publish.current_version(index_dir)
    out = []
    for v in publish.list_versions(index_dir):
        try:
            manifest = read_manifest(index_dir / publish.VERSIONS / v)
        except IndexCorruptError:
            manifest = None
        out.append(VersionInfo(v, v == live, manifest))
    return out


def rollback_target(versions: list[str], live: str | None, to: str | None, where: str, hint: str) -> str:
    """The version a rollback makes live: `to` if it is among `versions`, else the one just before the
    live one. Shared by the local and the remote rollback; `where` and `hint` finish their messages."""
    if to is None:
        older = [v for v in versions if live is None or v < live]
        if not older:
            raise IndexMissingError(f"no version older than {live} is {where}", f"{hint}, then use --to VERSION")
        return older[-1]
    if to not in versions:
        raise IndexMissingError(f"version {to!r} is not {where}", hint)
    return to


def rollback(index_dir: Path, to: str | None = None) -> str:
    """Make `to` (default: the version published before the live one) live again; returns it.

    The target is loaded in full first, so CURRENT never points at a version that cannot serve.
    Holds the build lock, so a rollback cannot interleave with a build's publish or prune."""
    index_dir = Path(index_dir)
    with publish.build_lock(index_dir):
        live = publish.current_version(index_dir)
        to = rollback_target(
            publish.list_versions(index_dir),
            live,
            to,
            f"kept in {index_dir}",
            "run 'beacon versions' to see the versions you can roll back to",
        )
        load_version(index_dir / publish.VERSIONS / to)  # raises IndexCorruptError if it cannot serve
        publish.set_current(index_dir, to)
    return to
