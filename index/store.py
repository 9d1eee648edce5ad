"""One index version on disk: FAISS vectors, chunk metadata, documents and a manifest."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

import faiss
import numpy as np
import orjson

from ingest import Chunk, Document, Link

from .errors import IndexCorruptError
from .lexical import LexicalIndex

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
VECTORS = "vectors.faiss"
CHUNKS = "chunks.json"
DOCUMENTS = "documents.json"
LEXICAL = "lexical"
# Exact search is both fastest and perfectly accurate for small corpora; a graph index only
# pays off once a flat scan costs more than a few milliseconds (issue #6 measures the switch).
FLAT_MAX_ROWS = 50_000


@dataclass(frozen=True)
class Manifest:
    format_version: int
    version: str
    model: str
    model_sha256: str
    dimension: int
    max_tokens: int
    corpus_sha256: str
    chunk_count: int
    document_count: int
    index_type: str
    built_at: str
    build_seconds: float
    versions: dict


def make_faiss_index(vectors: np.ndarray) -> faiss.Index:
    """Inner-product index over normalised vectors; row positions are the chunk ids."""
    n, dim = vectors.shape
    if n <= FLAT_MAX_ROWS:
        index = faiss.IndexFlatIP(dim)
    else:
        index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        index.hnsw.efSearch = 64
    index.add(vectors)
    return index


def _chunk_to_dict(c: Chunk) -> dict:
    d = asdict(c)
    d.pop("extra", None)
    return d


def _chunk_from_dict(d: dict) -> Chunk:
    return Chunk(
        id=d["id"], doc_id=d["doc_id"], title=d["title"], section=d["section"], anchor=d["anchor"],
        text=d["text"], links=tuple(Link(**l) for l in d["links"]), aliases=tuple(d.get("aliases", ())),
        tags=tuple(d.get("tags", ())), position=d.get("position", 0),
    )


def _write(path: Path, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def save_version(directory: Path, manifest: Manifest, index: faiss.Index, lexical: LexicalIndex,
                 chunks: list[Chunk], documents: list[Document]) -> None:
    """Write every file of a version and fsync it; the manifest goes last so it marks completeness."""
    directory.mkdir(parents=True, exist_ok=True)
    try:
        faiss.write_index(index, str(directory / VECTORS))
    except RuntimeError as e:  # faiss reports a failed write (disk full) as RuntimeError; callers expect OSError
        raise OSError(f"cannot write {directory / VECTORS}: {e}") from e
    with open(directory / VECTORS, "rb+") as f:
        os.fsync(f.fileno())
    lexical.save(directory / LEXICAL)
    _write(directory / CHUNKS, orjson.dumps([_chunk_to_dict(c) for c in chunks]))
    _write(directory / DOCUMENTS, orjson.dumps([asdict(d) for d in documents]))
    _write(directory / MANIFEST, orjson.dumps(asdict(manifest), option=orjson.OPT_INDENT_2))


def read_manifest(directory: Path) -> Manifest:
    try:
        data = orjson.loads((directory / MANIFEST).read_bytes())
        return Manifest(**data)
    except FileNotFoundError as e:
        raise IndexCorruptError(f"index version {directory} has no manifest (incomplete build?)",
                                "run 'beacon build' to publish a fresh index") from e
    except (orjson.JSONDecodeError, TypeError) as e:
        raise IndexCorruptError(f"manifest in {directory} is damaged: {e}", "run 'beacon build'") from e


@dataclass
class StoredIndex:
    """A loaded, read-only index version."""

    directory: Path
    manifest: Manifest
    faiss_index: faiss.Index
    lexical: LexicalIndex
    chunks: list[Chunk]
    documents: dict[str, dict]

    def vector(self, row: int) -> np.ndarray:
        return self.faiss_index.reconstruct(row)

    def search(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        """(row, cosine score) for the k nearest chunks, best first."""
        k = min(k, len(self.chunks))
        if k <= 0:
            return []
        scores, rows = self.faiss_index.search(vector.reshape(1, -1).astype(np.float32), k)
        return [(int(r), float(s)) for r, s in zip(rows[0], scores[0]) if r >= 0]


def load_version(directory: Path) -> StoredIndex:
    """Load and cross-check a version; raises IndexCorruptError on anything inconsistent."""
    manifest = read_manifest(directory)
    if manifest.format_version != FORMAT_VERSION:
        raise IndexCorruptError(
            f"index in {directory} has format {manifest.format_version}, this Beacon reads {FORMAT_VERSION}",
            "run 'beacon build' to rebuild it")
    try:
        index = faiss.read_index(str(directory / VECTORS))
        chunks = [_chunk_from_dict(d) for d in orjson.loads((directory / CHUNKS).read_bytes())]
        documents = {d["doc_id"]: d for d in orjson.loads((directory / DOCUMENTS).read_bytes())}
        lexical = LexicalIndex.load(directory / LEXICAL, len(chunks))
    except (OSError, RuntimeError, ValueError, KeyError, TypeError) as e:
        raise IndexCorruptError(f"index files in {directory} are missing or damaged: {e}",
                                "run 'beacon build' to publish a fresh index") from e
    if index.ntotal != len(chunks) or len(chunks) != manifest.chunk_count or index.d != manifest.dimension:
        raise IndexCorruptError(
            f"index in {directory} is inconsistent: {index.ntotal} vectors, {len(chunks)} chunks, "
            f"manifest says {manifest.chunk_count}", "run 'beacon build' to publish a fresh index")
    return StoredIndex(directory, manifest, index, lexical, chunks, documents)
