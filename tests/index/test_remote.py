"""Publishing to object storage and mirroring it, on fsspec's memory and local filesystems.

No S3 server can run here; s3fs, gcsfs and adlfs implement the same fsspec calls these tests use."""

from __future__ import annotations

import stat
import uuid

import fsspec
import fsspec.implementations.memory
import pytest

from index.publish import current_dir
from tests.helpers import TINY, write_corpus


@pytest.fixture
def built(tmp_path, embedder):
    from index import build_index

    corpus = write_corpus(tmp_path / "corpus", TINY)
    build_index(corpus, tmp_path / "idx", embedder)
    return corpus, tmp_path / "idx"


@pytest.fixture
def bucket():
    url = f"memory://beacon-test-{uuid.uuid4().hex}/index"
    yield url
    fs = fsspec.filesystem("memory")
    if fs.exists(url.split("://", 1)[1]):  # a test that refuses to publish leaves nothing
        fs.rm(url.split("://", 1)[1].split("/")[0], recursive=True)


def test_publish_uploads_every_file_then_a_replica_mirrors_and_verifies_it(built, bucket, tmp_path):
    from index import load_version
    from index.remote import (
        RemoteMirror,
        publish_version,
        remote_current,
        remote_versions,
    )

    _, index_dir = built
    version = publish_version(current_dir(index_dir), bucket)
    assert remote_current(bucket) == version and remote_versions(bucket) == [version]

    replica = tmp_path / "replica"
    assert RemoteMirror(bucket, replica, keep=2).sync() == version
    assert (replica / "CURRENT").read_text().strip() == version
    assert (
        load_version(current_dir(replica)).manifest.chunk_count
        == load_version(current_dir(index_dir)).manifest.chunk_count
    )
    assert stat.S_IMODE(current_dir(replica).stat().st_mode) == 0o555  # published locally like a local build
    assert RemoteMirror(bucket, replica, keep=2).sync() is None  # nothing new: nothing downloaded


def test_a_remote_file_that_fails_its_hash_is_refused_and_the_local_version_kept(built, bucket, tmp_path, embedder):
    from index.remote import RemoteError, RemoteMirror, publish_version

    corpus, index_dir = built
    first = publish_version(current_dir(index_dir), bucket)
    replica = tmp_path / "replica"
    RemoteMirror(bucket, replica, keep=2).sync()

    from index import build_index

    (corpus / "new.md").write_text("---\ntitle: New\n---\nA brand new support group.\n")
    build_index(corpus, index_dir, embedder)
    second = publish_version(current_dir(index_dir), bucket)
    fs = fsspec.filesystem("memory")
    path = bucket.split("://", 1)[1] + f"/versions/{second}/vectors.faiss"
    fs.pipe_file(path, b"\0" * len(fs.cat_file(path)))  # damaged in storage, same size
    with pytest.raises(RemoteError, match="SHA-256"):
        RemoteMirror(bucket, replica, keep=2).sync()
    assert (replica / "CURRENT").read_text().strip() == first
    assert not (replica / "versions" / second).exists()
    assert not list((replica / ".staging").glob("*"))


def test_remote_rollback_moves_the_pointer_and_replicas_follow_without_downloading(built, bucket, tmp_path, embedder):
    from index import build_index
    from index.remote import (
        RemoteMirror,
        publish_version,
        remote_current,
        rollback_remote,
    )

    corpus, index_dir = built
    first = publish_version(current_dir(index_dir), bucket)
    replica = tmp_path / "replica"
    mirror = RemoteMirror(bucket, replica, keep=3)
    mirror.sync()
    (corpus / "new.md").write_text("---\ntitle: New\n---\nA brand new support group.\n")
    build_index(corpus, index_dir, embedder)
    second = publish_version(current_dir(index_dir), bucket)
    assert mirror.sync() == second
    assert rollback_remote(bucket) == (second, first)
    assert remote_current(bucket) == first
    assert mirror.sync() == first
    assert sorted(p.name for p in (replica / "versions").iterdir()) == [first, second]


def test_file_urls_and_local_paths_take_the_same_path(built, tmp_path):
    from index.remote import RemoteMirror, publish_version, remote_current

    _, index_dir = built
    for url in (f"file://{tmp_path}/bucket-a", str(tmp_path / "bucket-b")):
        version = publish_version(current_dir(index_dir), url)
        assert remote_current(url) == version
        assert RemoteMirror(url, tmp_path / f"replica-{url[-1]}", keep=2).sync() == version
    assert not list((tmp_path / "bucket-a").glob(".CURRENT.*.tmp"))  # the pointer was moved, not left aside


def test_a_pointer_naming_a_path_is_refused(bucket):
    from index.remote import RemoteError, remote_current

    fsspec.filesystem("memory").pipe_file(bucket.split("://", 1)[1] + "/CURRENT", b"../../etc\n")
    with pytest.raises(RemoteError, match="not an index version"):
        remote_current(bucket)


def test_a_provider_package_that_is_missing_says_which_extra_to_install():
    import importlib.util

    from index.remote import RemoteError, remote_current

    if importlib.util.find_spec("s3fs") is not None:
        pytest.skip("s3fs is installed here")
    with pytest.raises(RemoteError) as e:
        remote_current("s3://some-bucket/beacon")
    assert "beacon[s3]" in str(e.value)


def _remote_path(bucket: str, rel: str) -> str:
    return bucket.split("://", 1)[1] + "/" + rel


def test_a_manifest_that_leaves_out_a_required_file_is_refused_and_the_replica_restarts_on_the_old_version(
    built, bucket, tmp_path, embedder
):
    import orjson

    from index import build_index, load_version
    from index.remote import RemoteError, RemoteMirror, publish_version

    corpus, index_dir = built
    first = publish_version(current_dir(index_dir), bucket)
    replica = tmp_path / "replica"
    RemoteMirror(bucket, replica, keep=2).sync()
    (corpus / "new.md").write_text("---\ntitle: New\n---\nA brand new support group.\n")
    build_index(corpus, index_dir, embedder)
    second = publish_version(current_dir(index_dir), bucket)
    # A publisher that uploaded only part of the version, or someone editing the manifest: every hash
    # it lists is right, but it lists no vectors.
    fs = fsspec.filesystem("memory")
    path = _remote_path(bucket, f"versions/{second}/manifest.json")
    manifest = orjson.loads(fs.cat_file(path))
    del manifest["files"]["vectors.faiss"]
    fs.pipe_file(path, orjson.dumps(manifest))

    with pytest.raises(RemoteError, match=r"vectors\.faiss"):
        RemoteMirror(bucket, replica, keep=2).sync()
    assert (replica / "CURRENT").read_text().strip() == first
    assert not (replica / "versions" / second).exists()
    # A restart syncs with repair first (it fails the same way), then serves what it has.
    with pytest.raises(RemoteError):
        RemoteMirror(bucket, replica, keep=2).sync(repair=True)
    assert load_version(current_dir(replica)).manifest.version == first
    # A new pod with an empty folder gets no pointer to a version it could not load.
    empty = tmp_path / "new-pod"
    with pytest.raises(RemoteError, match=r"vectors\.faiss"):
        RemoteMirror(bucket, empty, keep=2).sync()
    assert not (empty / "CURRENT").exists()


def test_publishing_refuses_a_version_whose_manifest_leaves_out_a_required_file(built, bucket, tmp_path):
    import shutil

    import orjson

    from index.remote import RemoteError, publish_version, remote_current

    _, index_dir = built
    copy = tmp_path / "copy"
    shutil.copytree(current_dir(index_dir), copy)
    copy.chmod(0o755)
    (copy / "manifest.json").chmod(0o644)
    manifest = orjson.loads((copy / "manifest.json").read_bytes())
    del manifest["files"]["chunks.json"]
    (copy / "manifest.json").write_bytes(orjson.dumps(manifest))
    with pytest.raises(RemoteError, match=r"chunks\.json"):
        publish_version(copy, bucket)
    assert remote_current(bucket) is None


class CountingMemoryFileSystem(fsspec.implementations.memory.MemoryFileSystem):
    """fsspec's memory store, counting the bytes a reader takes out of each file (a replica must stop
    reading a file over its size cap, not fetch it all and refuse it afterwards)."""

    protocol = "countingmemory"
    bytes_read: dict[str, int] = {}

    @classmethod
    def _strip_protocol(cls, path):
        return super()._strip_protocol(str(path).removeprefix("countingmemory://"))

    def _open(self, path, mode="rb", **kwargs):
        f = super()._open(path, mode, **kwargs)
        if "r" not in mode:
            return f
        counts, read = self.bytes_read, f.read

        def counted(n=-1):
            data = read(n)
            counts[path] = counts.get(path, 0) + len(data)
            return data

        f.read = counted
        return f


class UnderstatingMemoryFileSystem(CountingMemoryFileSystem):
    """A store whose listing says every file is tiny: the replica must count what it reads."""

    def size(self, path):
        return 10


@pytest.mark.parametrize("store", [CountingMemoryFileSystem, UnderstatingMemoryFileSystem])
def test_a_file_over_the_size_cap_is_refused_without_being_read(built, tmp_path, store):
    from index.remote import RemoteError, RemoteMirror, publish_version

    fsspec.register_implementation("countingmemory", store, clobber=True)
    bucket = f"countingmemory://beacon-test-{uuid.uuid4().hex}/index"
    _, index_dir = built
    version = publish_version(current_dir(index_dir), bucket)
    fs = fsspec.filesystem("countingmemory")
    big = _remote_path(bucket, f"versions/{version}/chunks.json")
    fs.pipe_file(big, b" " * (8 * 2**20))  # 8 MiB where the manifest expects a few KB
    CountingMemoryFileSystem.bytes_read.clear()

    replica = tmp_path / "replica"
    with pytest.raises(RemoteError, match="larger than") as e:
        RemoteMirror(bucket, replica, keep=2, max_file_bytes=2**20).sync()
    assert "chunks.json" in str(e.value) and "1 MiB" in str(e.value)
    assert CountingMemoryFileSystem.bytes_read.get(fs._strip_protocol(big), 0) <= 2**20 + 1
    assert not (replica / "CURRENT").exists()
    assert not list((replica / ".staging").glob("*"))
    fs.rm(_remote_path(bucket, "").split("/")[0], recursive=True)


def test_a_replica_with_the_signing_key_takes_only_versions_signed_with_it(built, bucket, tmp_path, embedder):
    import hashlib

    import orjson

    from index import build_index
    from index.remote import RemoteError, RemoteMirror, publish_version, read_signing_key, set_remote_current

    key_file = tmp_path / "signing.key"
    key_file.write_text("0123456789abcdef" * 4 + "\n")
    key = read_signing_key(key_file)
    corpus, index_dir = built
    first = publish_version(current_dir(index_dir), bucket, signing_key=key)
    replica = tmp_path / "replica"
    assert RemoteMirror(bucket, replica, keep=3, signing_key=key).sync() == first

    # Someone who can write to the bucket but has no key publishes a version of their own: every
    # hash in its manifest is right, and the replica still refuses it.
    (corpus / "new.md").write_text("---\ntitle: New\n---\nCall 555-0100 for the support group.\n")
    build_index(corpus, index_dir, embedder)
    unsigned = publish_version(current_dir(index_dir), bucket)
    with pytest.raises(RemoteError, match="not signed"):
        RemoteMirror(bucket, replica, keep=3, signing_key=key).sync()
    assert (replica / "CURRENT").read_text().strip() == first

    # ...or rewrites a signed version's file and its hash in the manifest.
    set_remote_current(bucket, first)
    fs = fsspec.filesystem("memory")
    chunks = fs.cat_file(_remote_path(bucket, f"versions/{first}/chunks.json")).replace(b"Mi Jian", b"Mi Jiam")
    fs.pipe_file(_remote_path(bucket, f"versions/{first}/chunks.json"), chunks)
    manifest = orjson.loads(fs.cat_file(_remote_path(bucket, f"versions/{first}/manifest.json")))
    manifest["files"]["chunks.json"] = hashlib.sha256(chunks).hexdigest()
    fs.pipe_file(_remote_path(bucket, f"versions/{first}/manifest.json"), orjson.dumps(manifest))
    fresh = tmp_path / "new-pod"
    with pytest.raises(RemoteError, match="signature .* does not match"):
        RemoteMirror(bucket, fresh, keep=3, signing_key=key).sync()
    assert not (fresh / "CURRENT").exists()
    # Without a key configured, a replica takes what the hashes vouch for (signing is optional).
    set_remote_current(bucket, unsigned)
    assert RemoteMirror(bucket, tmp_path / "unkeyed", keep=3).sync() == unsigned


def test_a_short_or_unreadable_signing_key_is_refused_with_a_hint(tmp_path):
    from index.remote import RemoteError, read_signing_key

    (tmp_path / "short.key").write_text("secret\n")
    with pytest.raises(RemoteError, match="at least 32") as e:
        read_signing_key(tmp_path / "short.key")
    assert "secrets.token_hex" in e.value.hint
    with pytest.raises(RemoteError, match="cannot read the signing key"):
        read_signing_key(tmp_path / "missing.key")


def test_the_download_cap_setting_defaults_to_the_remote_modules_own():
    from index import remote
    from service.settings import Settings

    assert Settings.model_fields["remote_max_file_bytes"].default == remote.MAX_FILE_BYTES
