"""Corpus folder → published index version, embedding only what the cache does not hold."""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.metadata as md
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import orjson
from tqdm import tqdm

from ingest import chunk_documents, corpus_files, load_corpus
from ingest.chunking import CHUNKING_VERSION
from ingest.scope import load_scope, scope_path
from ingest.synonyms import load_synonyms, synonyms_path
from ingest.text import split_sentences

from . import publish
from .cache import EmbeddingCache, text_key
from .embedder import Embedder
from .errors import IndexCorruptError, IndexMissingError, IndexWriteError
from .lexical import LexicalIndex
from .store import FORMAT_VERSION, Extras, Manifest, load_version, make_faiss_index, read_manifest, save_version

BATCH = 64
KEEP_VERSIONS = 3


@dataclass(frozen=True)
class BuildReport:
    version: str | None  # None when the index was already up to date
    documents: int
    chunks: int
    embedded: int  # chunks that needed the model
    reused: int  # chunks whose vectors came from the cache
    added: int
    changed: int
    removed: int
    seconds: float


def corpus_fingerprint(corpus_dir: Path, model_sha256: str, max_tokens: int | None = None) -> str:
    """Hash of every corpus file's path and bytes (synonyms and scope too), the model, the chunking settings
    and the index format.

    Any change to one of them makes the live index stale, so the next build re-chunks everything."""
    h = hashlib.sha256(f"format={FORMAT_VERSION};model={model_sha256};chunking={CHUNKING_VERSION};"
                       f"max_tokens={max_tokens}".encode())
    for path in [*corpus_files(corpus_dir), synonyms_path(corpus_dir), scope_path(corpus_dir)]:
        if not path.is_file():
            continue
        h.update(path.relative_to(corpus_dir).as_posix().encode() + b"\0")
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def is_stale(corpus_dir: Path, index_dir: Path, model_sha256: str, max_tokens: int | None = None) -> bool:
    """True when no valid index is live or it was built from other files, another model or other
    chunking settings. Without max_tokens (the model not loaded yet) the live index's own is assumed."""
    try:
        manifest = read_manifest(publish.current_dir(index_dir))
    except (IndexMissingError, IndexCorruptError):
        return True
    tokens = manifest.max_tokens if max_tokens is None else max_tokens
    return manifest.corpus_sha256 != corpus_fingerprint(corpus_dir, model_sha256, tokens)


def _embed(texts: list[str], embedder: Embedder, cache: EmbeddingCache,
           progress: bool) -> tuple[np.ndarray, list[int]]:
    """Vectors for the texts, and which of them needed the model."""
    keys = [text_key(t) for t in texts]
    todo = [i for i, k in enumerate(keys) if cache.get(k) is None]
    with tqdm(total=len(todo), unit="text", desc="Embedding", disable=not progress or not todo,
              dynamic_ncols=True) as bar:
        for start in range(0, len(todo), BATCH):
            batch = todo[start:start + BATCH]
            vectors = embedder.encode([texts[i] for i in batch])
            for i, v in zip(batch, vectors):
                cache.put(keys[i], v)
            bar.update(len(batch))
    cache.save(keep=set(keys))
    matrix = np.stack([cache.get(k) for k in keys]) if keys else np.zeros((0, embedder.dimension), np.float32)
    return matrix.astype(np.float32), todo


def _previous_chunks(index_dir: Path) -> dict[str, str]:
    """id → text of the live version's chunks, for the added/changed/removed summary."""
    try:
        data = orjson.loads((publish.current_dir(index_dir) / "chunks.json").read_bytes())
    except (IndexMissingError, OSError, ValueError):
        return {}
    return {d["id"]: d["text"] for d in data}


def _package_versions() -> dict:
    out = {}
    for name in ("faiss-cpu", "sentence-transformers", "torch", "transformers"):
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            pass
    return out


def _live_version_loads(index_dir: Path) -> bool:
    """A current manifest with damaged files beside it must not count as up to date: the service's
    advice for a damaged index is 'beacon build', so that has to publish a fresh version."""
    try:
        load_version(publish.current_dir(index_dir))
    except (IndexMissingError, IndexCorruptError):
        return False
    return True


def build_index(corpus_dir: Path, index_dir: Path, embedder: Embedder, *,
                progress: bool = False, force: bool = False, keep: int = KEEP_VERSIONS) -> BuildReport:
    """Read, chunk, embed and publish atomically. A failure at any step leaves the live index as it was."""
    corpus_dir, index_dir = Path(corpus_dir), Path(index_dir)
    started = time.perf_counter()
    with publish.build_lock(index_dir):
        fingerprint = corpus_fingerprint(corpus_dir, embedder.weights_sha256, embedder.max_tokens)
        documents = load_corpus(corpus_dir)  # raises CorpusError before anything is written
        synonyms = load_synonyms(corpus_dir)
        scope = load_scope(corpus_dir)
        chunks = chunk_documents(documents, embedder.max_tokens, embedder.count_tokens)
        if (not force and not is_stale(corpus_dir, index_dir, embedder.weights_sha256, embedder.max_tokens)
                and _live_version_loads(index_dir)):
            return BuildReport(None, len(documents), len(chunks), 0, len(chunks), 0, 0, 0,
                               time.perf_counter() - started)
        try:
            before = _previous_chunks(index_dir)
            cache = EmbeddingCache(index_dir / "cache", embedder.weights_sha256, embedder.dimension,
                                   embedder.max_tokens)
            # Sentences are embedded too, so query time picks the answer sentence without the model.
            sentences = [(row, s) for row, c in enumerate(chunks) for s in split_sentences(c.text)]
            texts = [c.embedding_text() for c in chunks] + [s for _, s in sentences]
            matrix, todo = _embed(texts, embedder, cache, progress)
            vectors, sentence_vectors = matrix[:len(chunks)], matrix[len(chunks):]
            embedded = sum(1 for i in todo if i < len(chunks))
            version = publish.new_version_name()
            staged = publish.staging_dir(index_dir, version)
            faiss_index = make_faiss_index(vectors)
            manifest = Manifest(
                format_version=FORMAT_VERSION, version=version, model=embedder.name,
                model_sha256=embedder.weights_sha256, dimension=embedder.dimension,
                max_tokens=embedder.max_tokens, corpus_sha256=fingerprint, chunk_count=len(chunks),
                document_count=len(documents), index_type=type(faiss_index).__name__, built_at=dt.datetime.now(dt.timezone.utc).isoformat(),
                build_seconds=round(time.perf_counter() - started, 3), versions=_package_versions(),
            )
            save_version(staged, manifest, faiss_index, LexicalIndex.build(chunks), chunks, documents,
                         Extras(synonyms, [row for row, _ in sentences], [s for _, s in sentences], sentence_vectors,
                                scope))
            publish.publish(index_dir, staged, version)
        except OSError as e:
            # Disk full or a file-size limit: nothing was published, the staging debris goes at the next build.
            raise IndexWriteError(f"could not write the new index in {index_dir}: {e.strerror or e}",
                                  "free some disk space and run 'beacon build' again; "
                                  "the live index was not changed") from e
        publish.prune_versions(index_dir, keep)
    after = {c.id: c.text for c in chunks}
    return BuildReport(
        version=version, documents=len(documents), chunks=len(chunks), embedded=embedded,
        reused=len(chunks) - embedded,
        added=len(after.keys() - before.keys()),
        changed=sum(1 for k in after.keys() & before.keys() if after[k] != before[k]),
        removed=len(before.keys() - after.keys()),
        seconds=time.perf_counter() - started,
    )
