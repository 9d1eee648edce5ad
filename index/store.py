"""One index version on disk: FAISS vectors, chunk metadata, documents and a manifest."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import faiss
import numpy as np
import orjson

from ingest import Chunk, Document, Link
from ingest.scope import Scope

from .errors import IndexCorruptError
from .lexical import LexicalIndex

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
VECTORS = "vectors.faiss"
CHUNKS = "chunks.json"
DOCUMENTS = "documents.json"
LEXICAL = "lexical"
# Optional (absent in versions built before answer extraction): read back as empty Extras.
EXTRAS = "extras.json"
SENTENCE_VECTORS = "sentences.npy"
# Exact search is both fastest and perfectly accurate for small corpora. A flat scan of 384-d
# vectors costs ~0.15-0.2 ms per 1,000 rows on one core here (bench/scale.py: ~200 ms at 1M), so
# above ~10,000 rows (~2 ms) an approximate index takes over (docs/performance.md).
FLAT_MAX_ROWS = 10_000
# Above that, HNSW: at equal latency it recalled at least as well as IVF-flat (4*sqrt(n) cells)
# on both 1M synthetic sets in bench/scale.py, needs no k-means, and maps its vectors. The graph's
# quality is set by efConstruction: on the 1M low-rank set (docs/performance.md), efSearch=256
# recalled@10 0.555 with efConstruction 40, 0.894 with 100 and 0.985 with 200 (p50 4.6 ms on one
# core). 200 costs ~39 min of graph building at 1M rows on 2 cores, small next to the hours of
# embedding that many chunks.
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 200
HNSW_EF_SEARCH = 256


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


@dataclass(frozen=True)
class Extras:
    """What query-time answering needs beyond the passages: synonyms, per-sentence vectors, scope."""

    synonyms: list[list[str]] = field(default_factory=list)
    sentence_rows: list[int] = field(default_factory=list)  # the chunk row each sentence belongs to
    sentence_texts: list[str] = field(default_factory=list)
    sentence_vectors: np.ndarray | None = None
    scope: Scope = field(default_factory=Scope)


def make_faiss_index(vectors: np.ndarray) -> faiss.Index:
    """Inner-product index over normalised vectors; row positions are the chunk ids."""
    n, dim = vectors.shape
    if n <= FLAT_MAX_ROWS:
        index = faiss.IndexFlatIP(dim)
        index.add(vectors)
        return index
    index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    index.add(vectors)
    index.hnsw.efSearch = HNSW_EF_SEARCH  # saved in the file with the graph
    return index


def load_faiss_index(path: Path) -> tuple[faiss.Index, str]:
    """Read an index memory-mapped where FAISS can, so workers share one copy in the page cache.

    IO_FLAG_MMAP_IFC maps the vectors of flat, IVF-flat and HNSW-flat indexes (HNSW's graph,
    ~M*2*4 bytes a row, is still read into each worker); on an older FAISS or an index type that
    refuses it, read it into memory.
    """
    flag = getattr(faiss, "IO_FLAG_MMAP_IFC", None)
    if flag is not None:
        try:
            return faiss.read_index(str(path), flag), "mmap"
        except RuntimeError:
            pass
    return faiss.read_index(str(path)), "read"


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
                 chunks: list[Chunk], documents: list[Document], extras: Extras = Extras()) -> None:
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
    _write(directory / EXTRAS, orjson.dumps({
        "synonyms": extras.synonyms, "sentence_rows": extras.sentence_rows,
        "sentence_texts": extras.sentence_texts, "scope": asdict(extras.scope)}))
    if extras.sentence_vectors is not None:
        with open(directory / SENTENCE_VECTORS, "wb") as f:
            np.save(f, extras.sentence_vectors.astype(np.float32))
            f.flush()
            os.fsync(f.fileno())
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
    extras: Extras = field(default_factory=Extras)

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
        index, _ = load_faiss_index(directory / VECTORS)
        chunks = [_chunk_from_dict(d) for d in orjson.loads((directory / CHUNKS).read_bytes())]
        documents = {d["doc_id"]: d for d in orjson.loads((directory / DOCUMENTS).read_bytes())}
        lexical = LexicalIndex.load(directory / LEXICAL, len(chunks))
        extras = _load_extras(directory)
    except (OSError, RuntimeError, ValueError, KeyError, TypeError) as e:
        raise IndexCorruptError(f"index files in {directory} are missing or damaged: {e}",
                                "run 'beacon build' to publish a fresh index") from e
    if index.ntotal != len(chunks) or len(chunks) != manifest.chunk_count or index.d != manifest.dimension:
        raise IndexCorruptError(
            f"index in {directory} is inconsistent: {index.ntotal} vectors, {len(chunks)} chunks, "
            f"manifest says {manifest.chunk_count}", "run 'beacon build' to publish a fresh index")
    return StoredIndex(directory, manifest, index, lexical, chunks, documents, extras)


def _load_extras(directory: Path) -> Extras:
    if not (directory / EXTRAS).is_file():
        return Extras()
    data = orjson.loads((directory / EXTRAS).read_bytes())
    vectors = np.load(directory / SENTENCE_VECTORS) if (directory / SENTENCE_VECTORS).is_file() else None
    if vectors is not None and len(vectors) != len(data["sentence_texts"]):
        raise ValueError(f"{len(vectors)} sentence vectors for {len(data['sentence_texts'])} sentences")
    return Extras(data["synonyms"], data["sentence_rows"], data["sentence_texts"], vectors,
                  Scope(**data.get("scope", {})))
