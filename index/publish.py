"""Atomic publishing of index versions: build aside, then flip one pointer file.

Layout of an index folder:
    versions/<version>/   complete, immutable versions (manifest written last)
    CURRENT               the name of the live version; replaced with os.replace, never edited
    .staging/             builds in progress; a killed build leaves debris here, never in versions/
    .build.lock           held (flock) by the one build allowed at a time
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import BuildInProgressError, IndexMissingError

CURRENT = "CURRENT"
VERSIONS = "versions"
STAGING = ".staging"


def new_version_name() -> str:
    """Sortable by time, unique per build."""
    return dt.datetime.now(dt.UTC).strftime("v%Y%m%dT%H%M%S%fZ")


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def build_lock(index_dir: Path) -> Iterator[None]:
    """One build at a time per index folder; the kernel drops the lock if the builder dies."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / ".build.lock", "w") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as e:
            raise BuildInProgressError(
                f"another build is running on {index_dir}", "wait for it to finish, then try again"
            ) from e
        yield


def staging_dir(index_dir: Path, version: str) -> Path:
    """A fresh folder to build a version in; leftovers of killed builds are removed first."""
    root = index_dir / STAGING
    if root.exists():
        remove_tree(root)  # only safe under build_lock
    path = root / version
    path.mkdir(parents=True)
    return path


def publish(index_dir: Path, staged: Path, version: str) -> Path:
    """Move a complete staged version into place, make it read-only, then point CURRENT at it atomically."""
    from .store import make_read_only  # store imports FAISS; publish stays light for the CLI's pointer commands

    versions = index_dir / VERSIONS
    versions.mkdir(parents=True, exist_ok=True)
    final = versions / version
    os.rename(staged, final)  # before the chmod: moving a folder needs write permission on it
    make_read_only(final)
    _fsync_dir(versions)
    set_current(index_dir, version)
    return final


def write_durably(path: Path, data: bytes) -> None:
    """Write, flush and fsync: the one way Beacon writes a file that must be on disk before the next step
    (a version's files before its manifest, the manifest before CURRENT names the version)."""
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def replace_durably(path: Path, data: bytes) -> None:
    """Readers see the old file or the new one, never half of one: a temporary file written durably beside
    it (`.name.<pid>.tmp`, which a killed writer may leave), then os.replace."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write_durably(tmp, data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)  # a disk-full write leaves no half file behind
        raise


def set_current(index_dir: Path, version: str) -> None:
    replace_durably(index_dir / CURRENT, (version + "\n").encode())
    _fsync_dir(index_dir)


def current_version(index_dir: Path) -> str | None:
    try:
        name = (index_dir / CURRENT).read_text().strip()
    except FileNotFoundError:
        return None
    return name or None


def current_dir(index_dir: Path) -> Path:
    version = current_version(index_dir)
    if version is None:
        raise IndexMissingError(
            f"no index has been published in {index_dir}", "run 'beacon build' first (make serve does this for you)"
        )
    return index_dir / VERSIONS / version


def list_versions(index_dir: Path) -> list[str]:
    """Published versions, oldest first."""
    root = index_dir / VERSIONS
    return sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []


def prune_versions(index_dir: Path, keep: int) -> list[str]:
    """Delete all but the newest `keep` versions (never the live one); returns what was removed."""
    live = current_version(index_dir)
    versions = list_versions(index_dir)
    doomed = [v for v in versions[: max(0, len(versions) - keep)] if v != live]
    for v in doomed:
        remove_tree(index_dir / VERSIONS / v)
    return doomed


def remove_tree(path: Path) -> None:
    """rmtree for published (read-only) versions: a 0555 folder's entries cannot be unlinked by its
    non-root owner, so give the folders write permission back first."""
    if not path.exists():
        return
    for p in [path, *path.rglob("*")]:
        if p.is_dir() and not p.is_symlink():
            try:
                os.chmod(p, 0o755)
            except OSError:
                pass
    shutil.rmtree(path, ignore_errors=True)
