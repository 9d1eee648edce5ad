"""Index versions in object storage: publish one there, and mirror the live one into a local folder.

Remote layout (any fsspec URL: s3://bucket/beacon, gs://..., az://..., file:///srv/beacon, a
local path, memory://... in tests), the same as a local index folder:
    versions/<version>/...   every file of a version, manifest.sig (when signing) and manifest.json last
    CURRENT                  the live version's name; written aside and moved into place last
Several sites (a server file, docs/sites.md) publish one such folder each, under URL/NAME/ (sub_url).

A publisher uploads every file before it moves CURRENT, so a replica never sees a pointer to a
half-uploaded version. A replica refuses a manifest that leaves out a file the format needs,
downloads into its own `.staging/` (refusing any file over its size cap before reading past the
cap), checks every file against the manifest's SHA-256, loads the version once, then publishes
locally with the same atomic rename + CURRENT flip a local build uses; its service's live swap
takes it from there. s3fs, gcsfs and adlfs plug into the same calls (`pip install 'beacon[s3]'`
and so on); the tests run this code on fsspec's local and memory filesystems, because no object
store can be installed here.

Signing (optional, docs/security.md "What replicas may hold"): given a key, the publisher uploads
`manifest.sig`, an HMAC-SHA256 of the manifest's bytes, before the manifest; a replica given the same
key refuses a version whose signature is missing or wrong. The hashes in a signed manifest then
vouch for every file, so storage write access alone cannot change what replicas serve.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import uuid
from pathlib import Path

import orjson

from ingest.errors import BeaconError

from . import publish
from .errors import BuildInProgressError, IndexCorruptError
from .store import MANIFEST, load_version, missing_files, parse_manifest, read_manifest, verify_files
from .versions import rollback_target

log = logging.getLogger("beacon.remote")

# A pointer names a version folder; anything else (a path, "..") is refused rather than followed.
VERSION_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
PROVIDERS = {"s3": "s3", "s3a": "s3", "gs": "gcs", "gcs": "gcs", "az": "azure", "abfs": "azure", "abfss": "azure"}
CHUNK = 1 << 20
# A replica downloads no file larger than this (BEACON_REMOTE_MAX_FILE_BYTES): it refuses one the
# store says is larger before reading it, and stops reading one that grows past it. The largest file
# is the vectors, 384 x 4 bytes a chunk: 1.5 GB at a million chunks flat (an HNSW graph adds ~256
# bytes a chunk), near the shipped replica's 2 GiB index volume (deploy/kubernetes/deployment.yaml).
MAX_FILE_BYTES = 2 * 2**30
# A manifest is ~1 KB plus ~100 bytes a file; a pointer or a signature is one line.
MANIFEST_MAX_BYTES = 16 * 2**20
LINE_MAX_BYTES = 1024
SIGNATURE = "manifest.sig"
SIGNING_KEY_MIN_BYTES = 32


class RemoteError(BeaconError):
    """Object storage cannot be reached, or holds something other than a published index."""


def _fs(url: str):
    """(filesystem, root path) for a URL or local path."""
    import fsspec

    try:
        fs, root = fsspec.core.url_to_fs(url)
    except ImportError as e:
        scheme = url.split("://", 1)[0]
        extra = PROVIDERS.get(scheme, scheme)
        raise RemoteError(
            f"no filesystem package for {scheme}:// URLs ({e})", f"install it: pip install 'beacon[{extra}]'"
        ) from e
    except ValueError as e:  # an unknown protocol
        raise RemoteError(
            f"cannot use index URL {url!r}: {e}", "use s3://, gs://, az://, file:// or a local path"
        ) from e
    return fs, root.rstrip("/")


def _size_text(n: int) -> str:
    return f"{n / 2**20:g} MiB" if n >= 2**20 else f"{n} bytes"


def _read_capped(fs, path: str, cap: int, what: str) -> bytes:
    """A small remote file read whole, but never more than `cap` + 1 bytes of it."""
    with fs.open(path, "rb") as f:
        data = f.read(cap + 1)
    if len(data) > cap:
        raise RemoteError(
            f"{what} is larger than {_size_text(cap)}", "publish again with 'beacon build --publish-to URL'"
        )
    return data


def read_signing_key(path: Path) -> bytes:
    """The shared key that signs (builder) and checks (replicas) manifests, from a file (a mounted Secret)."""
    try:
        key = Path(path).read_bytes().strip()
    except OSError as e:
        raise RemoteError(
            f"cannot read the signing key {path}: {e.strerror or e}", "check BEACON_SIGNING_KEY_FILE"
        ) from e
    if len(key) < SIGNING_KEY_MIN_BYTES:
        raise RemoteError(
            f"the signing key in {path} is {len(key)} bytes; a key needs at least {SIGNING_KEY_MIN_BYTES}",
            "make one with: python -c 'import secrets; print(secrets.token_hex(32))' > KEYFILE",
        )
    return key


def sign_manifest(raw: bytes, key: bytes) -> bytes:
    """The contents of manifest.sig for these manifest bytes."""
    return f"hmac-sha256:{hmac.new(key, raw, hashlib.sha256).hexdigest()}\n".encode()


def safe_url(url: str) -> str:
    """The URL without credentials or query, for logs, /healthz and /metrics."""
    return re.sub(r"//[^/@]*@", "//", url).split("?", 1)[0]


def sub_url(url: str, name: str) -> str:
    """The index folder `name` below `url` (one prefix per site: s3://bucket/beacon/garden), the query
    string, if any, kept at the end."""
    base, question, query = url.partition("?")
    return f"{base.rstrip('/')}/{name}{question}{query}"


def _check_name(version: str, where: str) -> str:
    if not VERSION_NAME.match(version):
        raise RemoteError(
            f"{where} names {version[:80]!r}, which is not an index version",
            "publish again with 'beacon build --publish-to URL'",
        )
    return version


def remote_current(url: str) -> str | None:
    """The live version at `url`, or None when nothing is published there yet."""
    fs, root = _fs(url)
    try:
        name = _read_capped(fs, f"{root}/{publish.CURRENT}", LINE_MAX_BYTES, f"{safe_url(url)}/CURRENT")
        name = name.decode(errors="replace").strip()
    except FileNotFoundError:
        return None
    return _check_name(name, f"{safe_url(url)}/CURRENT") if name else None


def remote_versions(url: str) -> list[str]:
    """Versions stored at `url` with a manifest (i.e. completely uploaded), oldest first."""
    fs, root = _fs(url)
    try:
        entries = fs.ls(f"{root}/{publish.VERSIONS}", detail=False)
    except FileNotFoundError:
        return []
    names = sorted(Path(e.rstrip("/")).name for e in entries)
    return [n for n in names if VERSION_NAME.match(n) and fs.exists(f"{root}/{publish.VERSIONS}/{n}/{MANIFEST}")]


def set_remote_current(url: str, version: str) -> None:
    """Move the remote pointer: write it aside, then move it over CURRENT (a rename on local
    disks; on object stores a copy, which readers see whole or not at all)."""
    fs, root = _fs(url)
    tmp = f"{root}/.{publish.CURRENT}.{uuid.uuid4().hex}.tmp"
    fs.pipe_file(tmp, (_check_name(version, "the version") + "\n").encode())
    fs.mv(tmp, f"{root}/{publish.CURRENT}")


def publish_version(version_dir: Path, url: str, signing_key: bytes | None = None) -> str:
    """Upload one local, verified version to `url` (signed when given a key), then make it the remote live one."""
    version_dir = Path(version_dir)
    manifest = read_manifest(version_dir)
    if not manifest.files:
        raise RemoteError(
            f"version {manifest.version} was built before file hashes were recorded, so replicas could not verify it",
            "run 'beacon build --force' and publish that",
        )
    if missing := missing_files(manifest.files):
        raise RemoteError(
            f"the manifest of {manifest.version} lists no hash for {', '.join(missing)}, "
            "so replicas could not serve it",
            "run 'beacon build --force' and publish that",
        )
    verify_files(version_dir, manifest)
    raw = (version_dir / MANIFEST).read_bytes()
    fs, root = _fs(url)
    target = f"{root}/{publish.VERSIONS}/{_check_name(manifest.version, 'the manifest')}"
    try:
        for rel in manifest.files:
            remote = f"{target}/{rel}"
            fs.makedirs(remote.rsplit("/", 1)[0], exist_ok=True)
            fs.put_file(str(version_dir / rel), remote)
        if signing_key is not None:
            fs.pipe_file(f"{target}/{SIGNATURE}", sign_manifest(raw, signing_key))
        fs.pipe_file(f"{target}/{MANIFEST}", raw)  # the version is complete
        set_remote_current(url, manifest.version)  # ...and only then live
    except OSError as e:
        raise RemoteError(
            f"could not upload {manifest.version} to {safe_url(url)}: {e}",
            "check the URL and the credentials, then run 'beacon build --publish-to URL' again; "
            "replicas keep serving the previous version",
        ) from e
    return manifest.version


def rollback_remote(url: str, to: str | None = None) -> tuple[str | None, str]:
    """Point the remote CURRENT at `to` (default: the version before the live one); (was, now)."""
    versions = remote_versions(url)
    live = remote_current(url)
    to = rollback_target(
        versions, live, to, f"stored at {safe_url(url)}", f"stored there: {', '.join(versions) or 'none'}"
    )
    set_remote_current(url, to)
    return live, to


class RemoteMirror:
    """Keeps a local index folder on the version a remote URL points at.

    Every worker of a replica may call sync(); the folder's build lock lets one download while
    the others skip the round (their LiveIndex picks the result up from the local CURRENT)."""

    def __init__(
        self,
        url: str,
        index_dir: Path,
        keep: int,
        max_file_bytes: int = MAX_FILE_BYTES,
        signing_key: bytes | None = None,
    ):
        self.url = url
        self.index_dir = Path(index_dir)
        self.keep = keep
        self.max_file_bytes = max_file_bytes
        self.signing_key = signing_key  # set: versions without a valid manifest.sig are refused

    def sync(self, repair: bool = False) -> str | None:
        """Bring the local folder to the remote live version; returns it when it changed locally.
        With repair (at start-up), a local copy of that version that fails its hashes is fetched again.

        Raises RemoteError (storage unreachable, a file that fails its hash): the local live
        version is untouched either way."""
        try:
            version = remote_current(self.url)
        except RemoteError:
            raise
        except Exception as e:  # network, credentials, throttling: every provider raises its own
            raise RemoteError(
                f"cannot read {safe_url(self.url)}/CURRENT: {type(e).__name__}: {e}",
                "check the URL, credentials and network; serving the local copy meanwhile",
            ) from e
        local = self.index_dir / publish.VERSIONS / str(version)
        if version is None or (
            version == publish.current_version(self.index_dir) and not (repair and not self._verified(local))
        ):
            return None
        try:
            with publish.build_lock(self.index_dir):
                if version == publish.current_version(self.index_dir) and not (repair and not self._verified(local)):
                    return None
                if not self._verified(local):
                    publish.remove_tree(local)
                    self._download(version)
                else:
                    publish.set_current(self.index_dir, version)  # e.g. a rollback to a version kept here
                publish.prune_versions(self.index_dir, self.keep)
        except BuildInProgressError:
            return None  # another worker of this replica is downloading it
        log.info("mirrored index %s from %s", version, safe_url(self.url))
        return version

    @staticmethod
    def _verified(directory: Path) -> bool:
        try:
            manifest = read_manifest(directory)
            verify_files(directory, manifest)
            return bool(manifest.files) and not missing_files(manifest.files)
        except IndexCorruptError:
            return False

    def _download(self, version: str) -> None:
        fs, root = _fs(self.url)
        source = f"{root}/{publish.VERSIONS}/{version}"
        where = f"{version} at {safe_url(self.url)}"
        republish = "publish it again with this Beacon: 'beacon build --force --publish-to URL'"
        try:
            raw = _read_capped(fs, f"{source}/{MANIFEST}", MANIFEST_MAX_BYTES, f"the manifest of {where}")
            manifest = parse_manifest(raw)
        except FileNotFoundError as e:
            raise RemoteError(
                f"{safe_url(self.url)} points at {version}, which has no manifest",
                "publish again with 'beacon build --publish-to URL'",
            ) from e
        except (orjson.JSONDecodeError, TypeError) as e:
            raise RemoteError(
                f"the manifest of {where} is damaged: {e}",
                "publish again with 'beacon build --publish-to URL'",
            ) from e
        if manifest.version != version or not manifest.files:
            raise RemoteError(f"{where} has no file hashes to verify against", republish)
        if missing := missing_files(manifest.files):
            raise RemoteError(
                f"the manifest of {where} lists no hash for {', '.join(missing)}: the version is incomplete, "
                "so this replica keeps its current one",
                republish,
            )
        if self.signing_key is not None:
            self._check_signature(fs, source, where, raw)
        staged = publish.staging_dir(self.index_dir, version)
        try:
            for rel, expected in manifest.files.items():
                if ".." in Path(rel).parts or rel.startswith("/"):
                    raise RemoteError(f"the manifest of {version} lists an unsafe path {rel!r}", "publish again")
                self._fetch(fs, f"{source}/{rel}", staged / rel, expected, f"{version}/{rel}")
            (staged / MANIFEST).write_bytes(raw)  # last, as a local build writes it
            # Loaded once before the pointer moves, as a local rollback does, so CURRENT never names a
            # version this replica cannot serve (another format, counts that disagree). The serving
            # workers load it right after anyway, so the peak (old + new in memory) is a swap's own.
            load_version(staged)
            publish.publish(self.index_dir, staged, version)
        except RemoteError:
            publish.remove_tree(staged)
            raise
        except IndexCorruptError as e:
            publish.remove_tree(staged)
            raise RemoteError(f"{where} cannot be served: {e}", republish) from e
        except Exception as e:
            publish.remove_tree(staged)
            raise RemoteError(
                f"could not download {where}: {type(e).__name__}: {e}",
                "the replica keeps serving its current version and tries again",
            ) from e

    def _check_signature(self, fs, source: str, where: str, raw: bytes) -> None:
        hint = "publish it from a builder that has the signing key (BEACON_SIGNING_KEY_FILE)"
        try:
            signature = _read_capped(fs, f"{source}/{SIGNATURE}", LINE_MAX_BYTES, f"the signature of {where}")
        except FileNotFoundError as e:
            raise RemoteError(f"{where} is not signed, and this replica takes only signed versions", hint) from e
        if not hmac.compare_digest(signature.strip(), sign_manifest(raw, self.signing_key).strip()):
            raise RemoteError(f"the signature of {where} does not match its manifest (tampered, or another key)", hint)

    def _fetch(self, fs, remote: str, local: Path, expected: str, what: str) -> None:
        """Copy one file, hashing as it streams; refuse it before reading when the store says it is over
        the cap, and stop reading when it turns out to be."""
        cap = self.max_file_bytes
        too_big = RemoteError(
            f"{safe_url(self.url)}: {what} is larger than {_size_text(cap)} (BEACON_REMOTE_MAX_FILE_BYTES)",
            "raise BEACON_REMOTE_MAX_FILE_BYTES if the index really is that large; the replica keeps serving "
            "its current version",
        )
        declared = fs.size(remote)
        if declared is not None and declared > cap:
            raise too_big
        local.parent.mkdir(parents=True, exist_ok=True)
        digest, total = hashlib.sha256(), 0
        with fs.open(remote, "rb") as src, open(local, "wb") as dst:
            while block := src.read(min(CHUNK, cap + 1 - total)):
                total += len(block)
                if total > cap:
                    raise too_big
                digest.update(block)
                dst.write(block)
            dst.flush()
            os.fsync(dst.fileno())
        if digest.hexdigest() != expected:
            raise RemoteError(
                f"{safe_url(self.url)}: {what} does not match its SHA-256 in the manifest "
                "(damaged or still being uploaded)",
                "the replica keeps serving its current version; republish if it persists",
            )
