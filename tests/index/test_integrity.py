"""Published files are immutable and hashed in the manifest; a damaged version never loads."""

from __future__ import annotations

import logging
import os
import stat

import orjson
import pytest

from tests.helpers import TINY, copy_index, write_corpus


def _live(index_dir):
    return index_dir / "versions" / (index_dir / "CURRENT").read_text().strip()


@pytest.fixture
def tiny_index(tmp_path, embedder):
    from index import build_index

    corpus = write_corpus(tmp_path / "corpus", TINY)
    build_index(corpus, tmp_path / "idx", embedder)
    return tmp_path / "idx"


def test_manifest_holds_a_sha256_of_every_file_and_files_are_read_only(tiny_index):
    import hashlib

    version = _live(tiny_index)
    files = orjson.loads((version / "manifest.json").read_bytes())["files"]
    on_disk = {p.relative_to(version).as_posix() for p in version.rglob("*") if p.is_file()} - {"manifest.json"}
    assert set(files) == on_disk and "vectors.faiss" in files
    for rel, digest in files.items():
        assert hashlib.sha256((version / rel).read_bytes()).hexdigest() == digest
    for p in version.rglob("*"):
        mode = stat.S_IMODE(p.stat().st_mode)
        assert mode == (0o555 if p.is_dir() else 0o444), (p, oct(mode))
    assert stat.S_IMODE(version.stat().st_mode) == 0o555


def test_truncated_vectors_are_refused_when_the_version_loads(tiny_index):
    from index import IndexCorruptError, load_version

    vectors = _live(tiny_index) / "vectors.faiss"
    os.truncate(vectors, 50000)  # `truncate -s 50000`: shorter or zero-padded, either way not what was published
    with pytest.raises(IndexCorruptError, match="vectors.faiss.*SHA-256"):
        load_version(_live(tiny_index))


def test_same_size_garbage_in_the_vectors_is_refused(tiny_index):
    from index import IndexCorruptError, load_version

    vectors = _live(tiny_index) / "vectors.faiss"
    data = bytearray(vectors.read_bytes())
    data[-600:] = os.urandom(600)  # the header still parses: FAISS alone would load this and answer wrongly
    vectors.write_bytes(bytes(data))
    with pytest.raises(IndexCorruptError, match="SHA-256"):
        load_version(_live(tiny_index))


def test_a_version_built_before_hashes_loads_unverified_with_one_warning(tiny_index, caplog):
    from index import load_version

    version = _live(tiny_index)
    manifest = orjson.loads((version / "manifest.json").read_bytes())
    del manifest["files"]
    (version / "manifest.json").write_bytes(orjson.dumps(manifest))
    with caplog.at_level(logging.WARNING, logger="beacon.index"):
        load_version(version)
        load_version(version)
    warnings = [r for r in caplog.records if "unverified" in r.getMessage()]
    assert len(warnings) == 1


def test_small_index_is_read_into_memory_so_damage_after_loading_cannot_crash(tiny_index):
    from index import load_version

    stored = load_version(_live(tiny_index))
    assert stored.vectors_mode == "memory"
    before = stored.search(stored.vector(0), 1)
    os.truncate(_live(tiny_index) / "vectors.faiss", 10)  # with mmap this search would die of SIGBUS
    assert stored.search(stored.vector(0), 1) == before


def test_pruning_removes_read_only_versions(tmp_path, embedder):
    from index import build_index, list_versions

    corpus = write_corpus(tmp_path / "corpus", TINY)
    index_dir = tmp_path / "idx"
    for n in range(3):
        (corpus / "extra.md").write_text(f"---\ntitle: Extra {n}\n---\nSupport group number {n}.\n")
        build_index(corpus, index_dir, embedder, keep=2)
    assert len(list_versions(index_dir)) == 2


def test_copied_index_is_writable_for_tests(tiny_index, tmp_path):
    copied = copy_index(tiny_index, tmp_path / "copy")
    (_live(copied) / "chunks.json").write_bytes(b"[]")  # tests damage copies on purpose, also as non-root
