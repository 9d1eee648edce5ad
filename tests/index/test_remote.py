"""Publishing to object storage and mirroring it, on fsspec's memory and local filesystems.

No S3 server can run here; s3fs, gcsfs and adlfs implement the same fsspec calls these tests use."""

from __future__ import annotations

import stat
import uuid

import fsspec
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
