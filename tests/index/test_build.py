"""Building, publishing and searching an index with the real model and real FAISS."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import orjson
import pytest

from index import (
    IndexCorruptError,
    build_index,
    current_version,
    list_versions,
    load_version,
    open_searcher,
)
from index.publish import current_dir
from ingest import CorpusError
from tests.helpers import ROOT, write_corpus


def test_build_then_search_finds_the_right_passage(tiny_corpus, tmp_path, embedder):
    report = build_index(tiny_corpus, tmp_path / "idx", embedder)
    assert report.version and report.documents == 3 and report.chunks == 4 and report.embedded == 4
    result = open_searcher(tmp_path / "idx", embedder).search("radioactive iodine diary", k=3)
    assert result.hits[0].chunk.id == "apps/mi-jian#what-you-will-find"
    assert result.hits[0].score > result.hits[1].score
    assert result.answer is not None and "I-131" in result.answer.text


def test_manifest_records_model_corpus_and_counts(tiny_corpus, tmp_path, embedder):
    report = build_index(tiny_corpus, tmp_path / "idx", embedder)
    manifest = load_version(current_dir(tmp_path / "idx")).manifest
    assert manifest.version == report.version
    assert (
        manifest.model_sha256
        == embedder.weights_sha256
        == ("53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db")
    )
    assert manifest.chunk_count == 4 and manifest.dimension == 384 and manifest.index_type == "IndexFlatIP"
    assert len(manifest.corpus_sha256) == 64 and manifest.built_at and manifest.format_version == 2


def test_unchanged_corpus_is_not_rebuilt_and_edit_embeds_only_the_change(tiny_corpus, tmp_path, embedder):
    first = build_index(tiny_corpus, tmp_path / "idx", embedder)
    again = build_index(tiny_corpus, tmp_path / "idx", embedder)
    assert again.version is None and current_version(tmp_path / "idx") == first.version
    path = tiny_corpus / "offline/hospital.md"
    path.write_text(path.read_text().replace("in person.", "in person, often monthly."))
    edited = build_index(tiny_corpus, tmp_path / "idx", embedder)
    assert edited.version != first.version
    assert (edited.embedded, edited.changed, edited.added, edited.removed) == (1, 1, 0, 0)


def test_malformed_file_fails_build_and_keeps_published_index(tiny_corpus, tmp_path, embedder):
    first = build_index(tiny_corpus, tmp_path / "idx", embedder)
    (tiny_corpus / "broken.md").write_text("---\ntitle: [oops\n---\nBody\n")
    with pytest.raises(CorpusError) as info:
        build_index(tiny_corpus, tmp_path / "idx", embedder)
    assert "broken.md:2" in str(info.value)
    assert current_version(tmp_path / "idx") == first.version
    assert list_versions(tmp_path / "idx") == [first.version]


def test_a_link_to_a_missing_document_fails_build_as_check_says_and_keeps_published_index(
    tiny_corpus, tmp_path, embedder
):
    first = build_index(tiny_corpus, tmp_path / "idx", embedder)
    page = tiny_corpus / "offline" / "hospital.md"
    page.write_text(page.read_text() + "\nSee also [the forum](/source/online/nowhere) and [x](../apps/gone.md).\n")
    with pytest.raises(CorpusError) as info:
        build_index(tiny_corpus, tmp_path / "idx", embedder)
    message = str(info.value)
    assert (
        "offline/hospital.md:10" in message
        and "'/source/online/nowhere' points at a document that does not exist" in message
    )
    assert "and 1 more" in message and "beacon check" in message
    assert current_version(tmp_path / "idx") == first.version
    # Fixed, it builds; a link to a document that exists is fine.
    page.write_text(
        page.read_text()
        .replace("/source/online/nowhere", "/source/apps/mi-jian")
        .replace("../apps/gone.md", "../apps/mi-jian.md")
    )
    assert build_index(tiny_corpus, tmp_path / "idx", embedder).version != first.version


def test_damaged_index_files_are_refused_clearly(tiny_corpus, tmp_path, embedder):
    build_index(tiny_corpus, tmp_path / "idx", embedder)
    live = current_dir(tmp_path / "idx")
    (live / "vectors.faiss").write_bytes(b"not faiss")
    with pytest.raises(IndexCorruptError, match="beacon build|damaged"):
        load_version(live)
    # The hint must work: the corpus is unchanged, yet the build publishes a fresh, loadable version.
    report = build_index(tiny_corpus, tmp_path / "idx", embedder)
    assert report.version is not None and report.version != live.name
    assert load_version(current_dir(tmp_path / "idx")).manifest.chunk_count == report.chunks


def _big_corpus(root, n_docs=40, sections=12):
    files = {}
    for d in range(n_docs):
        parts = [f"---\ntitle: Document {d}\n---\nIntro {d}.\n"]
        parts += [
            f"\n## Part {s}\nPatients in group {d} share story {s} about recovery and I-131.\n" for s in range(sections)
        ]
        files[f"doc{d}.md"] = "".join(parts)
    return write_corpus(root, files)


@pytest.mark.parametrize("kill_when", ["embedding", "staging"])
def test_build_killed_midway_keeps_previous_index(tmp_path, tiny_corpus, embedder, kill_when):
    index_dir = tmp_path / "idx"
    first = build_index(tiny_corpus, index_dir, embedder)
    big = _big_corpus(tmp_path / "big")
    env = {**os.environ, "BEACON_CORPUS_DIR": str(big), "BEACON_INDEX_DIR": str(index_dir)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "build"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    staging = index_dir / ".staging"
    deadline = time.monotonic() + 120
    try:
        if kill_when == "embedding":
            while b"Embedding" not in proc.stderr.read1(4096):
                assert time.monotonic() < deadline and proc.poll() is None
        else:
            while not staging.exists():
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.002)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert current_version(index_dir) == first.version
    assert list_versions(index_dir) == [first.version]
    result = open_searcher(index_dir, embedder).search("I-131 diaries", k=1)
    assert result.hits[0].chunk.doc_id == "apps/mi-jian"
    # The next build cleans up after the killed one and publishes normally.
    report = build_index(big, index_dir, embedder)
    assert current_version(index_dir) == report.version and not any(staging.iterdir())


def _committed_vectors(cache_dir) -> int:
    """Vectors the (running) build has committed to its embedding cache, read as another process would."""
    import sqlite3

    total = 0
    for path in cache_dir.glob("embeddings-*.sqlite"):
        try:
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=0.1) as db:
                total += db.execute("SELECT count(*) FROM cache").fetchone()[0]
        except sqlite3.Error:  # not created yet, or locked by a commit in progress
            pass
    return total


def test_a_killed_build_keeps_what_it_embedded_and_the_next_one_says_so(tmp_path):
    big = _big_corpus(tmp_path / "big")  # 520 passages: several batches, each committed as it is embedded
    index_dir = tmp_path / "idx"
    env = {**os.environ, "BEACON_CORPUS_DIR": str(big), "BEACON_INDEX_DIR": str(index_dir)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "build"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300
    try:
        while _committed_vectors(index_dir / "cache") == 0:
            assert proc.poll() is None, "the build ended before it could be stopped midway"
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert proc.poll() is None
    finally:
        proc.send_signal(signal.SIGKILL)  # no chance to clean up or commit on the way out
        proc.wait()
    kept = _committed_vectors(index_dir / "cache")
    assert 0 < kept < 520
    assert current_version(index_dir) is None  # nothing was published
    rebuilt = subprocess.run(
        [sys.executable, "-m", "service.cli", "build"], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    match = re.search(r"(\d+) embedded, (\d+) from cache", rebuilt.stdout + rebuilt.stderr)
    assert match, rebuilt.stdout + rebuilt.stderr
    embedded, reused = int(match[1]), int(match[2])
    assert reused >= kept and embedded + reused == 520
    # The progress bar counts passages (what the report counts), at a rate in passages per second.
    assert re.search(rf"Embedding: 100%.*\b{embedded}/{embedded}\b.*(passage/s|s/passage)", rebuilt.stderr), (
        rebuilt.stderr
    )


def test_chunk_metadata_round_trips(tiny_corpus, tmp_path, embedder):
    build_index(tiny_corpus, tmp_path / "idx", embedder)
    stored = load_version(current_dir(tmp_path / "idx"))
    chunk = next(c for c in stored.chunks if c.doc_id == "apps/mi-jian")
    assert chunk.aliases == ("觅健",) and chunk.links[0].url == "https://example.org/mijian"
    docs = orjson.loads((current_dir(tmp_path / "idx") / "documents.json").read_bytes())
    assert {d["doc_id"] for d in docs} == {"apps/mi-jian", "offline/hospital", "notes"}
