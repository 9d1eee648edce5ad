"""One index version on disk: FAISS vectors, chunk metadata, documents and a manifest."""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

import faiss
import numpy as np
import orjson

from ingest import Chunk, Document, Link
from ingest.scope import Scope

from .errors import IndexCorruptError
from .lexical import LexicalIndex
from .publish import current_dir, write_durably

log = logging.getLogger("beacon.index")

# 2: sentences.npy holds float16 vectors for every sentence of every passage, pooled from the
# passage's own token vectors (format 1: float32, separately encoded, small sites only).
FORMAT_VERSION = 2
MANIFEST = "manifest.json"
VECTORS = "vectors.faiss"
CHUNKS = "chunks.json"
DOCUMENTS = "documents.json"
LEXICAL = "lexical"
# Every sentence's text, and its vector (format 2 writes both for every site; a version without them
# would answer with arbitrary sentences).
EXTRAS = "extras.json"
SENTENCE_VECTORS = "sentences.npy"
# The site's public settings (name, copy, base URL, fusion weights) travel with each version, so the
# service shows the words of the corpus it serves; the build writes it, the manifest hashes it.
SITE_JSON = "site.json"
# What a manifest must list for its version to be served: one definition for the upload
# (remote.publish_version), a replica's download (remote.RemoteMirror) and load_version. A name
# ending in "/" is a folder that must list at least one file (the BM25 files depend on the languages).
# A replica that took a version without one moved its pointer and could then no longer start.
REQUIRED_FILES = (VECTORS, CHUNKS, DOCUMENTS, EXTRAS, SENTENCE_VECTORS, LEXICAL + "/")
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
# Vectors files up to this size are read into each worker's memory; larger ones are memory-mapped.
# Read, a file damaged or truncated after loading cannot hurt a running worker (a mapped page that
# is gone raises SIGBUS and kills it), and the bytes hashed are the bytes served. Mapped, N workers
# share one copy in the page cache and start without reading it all. 256 MiB is ~175k 384-d rows
# flat; the default corpus is ~0.5 MiB, a 10k-chunk index ~15 MiB (docs/performance.md).
IN_MEMORY_MAX_BYTES = 256 * 2**20
READ_ONLY_FILE = 0o444
READ_ONLY_DIR = 0o555


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
    # SHA-256 of every file of the version but the manifest, by path relative to the version
    # folder. Empty in versions built before hashes were recorded: those load unverified.
    files: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Extras:
    """What query-time answering needs beyond the passages: synonyms, per-sentence vectors, scope."""

    synonyms: list[list[str]] = field(default_factory=list)
    sentence_rows: list[int] = field(default_factory=list)  # the chunk row each sentence belongs to
    sentence_texts: list[str] = field(default_factory=list)
    sentence_vectors: np.ndarray | None = None
    scope: Scope = field(default_factory=Scope)


def empty_faiss_index(rows: int, dim: int) -> faiss.Index:
    """The inner-product index for that many normalised vectors, to be filled with add() in order;
    row positions are the chunk ids."""
    if rows <= FLAT_MAX_ROWS:
        return faiss.IndexFlatIP(dim)
    index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    index.hnsw.efSearch = HNSW_EF_SEARCH  # saved in the file with the graph
    return index


def make_faiss_index(vectors: np.ndarray) -> faiss.Index:
    index = empty_faiss_index(*vectors.shape)
    index.add(vectors)
    return index


def load_faiss_index(
    path: Path, expected_sha256: str | None = None, in_memory_max_bytes: int = IN_MEMORY_MAX_BYTES
) -> tuple[faiss.Index, str]:
    """Read a small index into memory (hash checked on the very bytes loaded), map a large one.

    Returns the index and how it was loaded: "memory", "mmap" or "read". IO_FLAG_MMAP_IFC maps the
    vectors of flat, IVF-flat and HNSW-flat indexes (HNSW's graph, ~M*2*4 bytes a row, is still read
    into each worker); on an older FAISS or an index type that refuses it, read it into memory.
    """
    if path.stat().st_size <= in_memory_max_bytes:
        data = path.read_bytes()
        if expected_sha256 is not None:
            _check_digest(path, hashlib.sha256(data).hexdigest(), expected_sha256)
        return faiss.deserialize_index(np.frombuffer(data, dtype=np.uint8)), "memory"
    if expected_sha256 is not None:
        _check_digest(path, _sha256_file(path), expected_sha256)
    flag = getattr(faiss, "IO_FLAG_MMAP_IFC", None)
    if flag is not None:
        try:
            return faiss.read_index(str(path), flag), "mmap"
        except RuntimeError:
            pass
    return faiss.read_index(str(path)), "read"


def _sha256_file(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _check_digest(path: Path, actual: str, expected: str) -> None:
    if actual != expected:
        raise IndexCorruptError(
            f"index file {path} is missing or damaged: it does not match its SHA-256 in the manifest",
            "run 'beacon build' to publish a fresh index, or 'beacon rollback' to an earlier one",
        )


def version_files(directory: Path) -> list[Path]:
    """Every file of a version but the manifest, in a stable order."""
    return sorted(p for p in directory.rglob("*") if p.is_file() and p != directory / MANIFEST)


def file_hashes(directory: Path) -> dict[str, str]:
    return {p.relative_to(directory).as_posix(): _sha256_file(p) for p in version_files(directory)}


def missing_files(files: dict) -> list[str]:
    """The REQUIRED_FILES a manifest's `files` does not list."""
    return [
        req
        for req in REQUIRED_FILES
        if not (any(rel.startswith(req) for rel in files) if req.endswith("/") else req in files)
    ]


def verify_files(directory: Path, manifest: Manifest, skip: tuple[str, ...] = ()) -> None:
    """Check each file the manifest lists against its SHA-256; raises IndexCorruptError."""
    for rel, expected in manifest.files.items():
        if rel in skip:
            continue
        path = directory / rel
        if ".." in Path(rel).parts or not path.is_file():
            raise IndexCorruptError(
                f"index file {path} is missing or damaged: it is not there",
                "run 'beacon build' to publish a fresh index",
            )
        _check_digest(path, _sha256_file(path), expected)


def make_read_only(directory: Path) -> None:
    """Published versions are immutable: files 0444, folders 0555 (publish.remove_tree undoes it to prune)."""
    for p in sorted(directory.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        os.chmod(p, READ_ONLY_DIR if p.is_dir() else READ_ONLY_FILE)
    os.chmod(directory, READ_ONLY_DIR)


# Links read back from a version are checked again, not trusted: a chunks or documents file changed
# after the build (its hash in the manifest with it) must not put a javascript: or data: link on a
# page or in the API. The build keeps only http(s) and relative links; mailto: and tel: are harmless.
# urlsplit drops what browsers drop before reading a scheme (leading control characters and spaces,
# tabs and newlines anywhere), so "java\tscript:" is read as the javascript: it is.
CLICKABLE_SCHEMES = frozenset({"", "http", "https", "mailto", "tel"})


def clickable(url: object) -> bool:
    """Whether a link from an index may be shown as a link."""
    try:
        return isinstance(url, str) and urlsplit(url).scheme.lower() in CLICKABLE_SCHEMES
    except ValueError:  # e.g. an unbalanced [ in the host
        return False


def _document_from_dict(d: dict) -> dict:
    """A document as stored, without any link that is not clickable (its page URL then falls back to /source/)."""
    out = dict(d)
    if "links" in out:
        out["links"] = [l for l in out["links"] or () if isinstance(l, dict) and clickable(l.get("url"))]
    if out.get("url") and not clickable(out["url"]):
        out["url"] = None
    return out


def chunk_to_dict(c: Chunk) -> dict:
    d = asdict(c)
    d.pop("extra", None)
    return d


def chunk_from_dict(d: dict) -> Chunk:
    return Chunk(
        id=d["id"],
        doc_id=d["doc_id"],
        title=d["title"],
        section=d["section"],
        anchor=d["anchor"],
        text=d["text"],
        links=tuple(Link(**l) for l in d["links"] if clickable(l["url"])),
        aliases=tuple(d.get("aliases", ())),
        tags=tuple(d.get("tags", ())),
        position=d.get("position", 0),
        target=d.get("target", ""),
        targets=tuple((int(at), str(anchor)) for at, anchor in d.get("targets", ())),
    )


class JsonArrayWriter:
    """Writes a JSON array one item at a time, then fsyncs, so a big site's documents or chunks are
    never one bytes object in memory beside the objects they came from."""

    def __init__(self, path: Path):
        self.path = path
        self._file = open(path, "wb")  # noqa: SIM115 (closed by close(), across the build's loop)
        self._file.write(b"[")
        self.count = 0

    def write(self, item) -> bytes:
        """Append one item (a dict or dataclass); returns its JSON, for callers that hash it."""
        data = orjson.dumps(item)
        self._file.write(b"," + data if self.count else data)
        self.count += 1
        return data

    def close(self) -> None:
        self._file.write(b"]")
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()

    def __enter__(self) -> JsonArrayWriter:
        return self

    def __exit__(self, *exc) -> None:
        if exc[0] is None:
            self.close()
        else:
            self._file.close()


def write_documents(directory: Path, documents: list[Document]) -> None:
    """The documents file of a version built from a list (the build streams its own, see JsonArrayWriter)."""
    directory.mkdir(parents=True, exist_ok=True)
    with JsonArrayWriter(directory / DOCUMENTS) as out:
        for d in documents:
            out.write(d)


def save_version(
    directory: Path,
    manifest: Manifest,
    index: faiss.Index,
    lexical: LexicalIndex,
    chunks: list[Chunk],
    extras: Extras = Extras(),
) -> None:
    """Write every file of a version and fsync it; the manifest goes last so it marks completeness.
    The documents file is written before (write_documents, or streamed by the build as it reads)."""
    if not (directory / DOCUMENTS).is_file():
        raise ValueError(f"{directory / DOCUMENTS} must be written before the version is saved")
    try:
        faiss.write_index(index, str(directory / VECTORS))
    except RuntimeError as e:  # faiss reports a failed write (disk full) as RuntimeError; callers expect OSError
        raise OSError(f"cannot write {directory / VECTORS}: {e}") from e
    with open(directory / VECTORS, "rb+") as f:
        os.fsync(f.fileno())
    lexical.save(directory / LEXICAL)
    with JsonArrayWriter(directory / CHUNKS) as out:
        for c in chunks:
            out.write(chunk_to_dict(c))
    write_durably(
        directory / EXTRAS,
        orjson.dumps(
            {
                "synonyms": extras.synonyms,
                "sentence_rows": extras.sentence_rows,
                "sentence_texts": extras.sentence_texts,
                "scope": {"answers": extras.scope.answers, "does_not_answer": extras.scope.does_not_answer},
                # Beside "scope", not in it: a Beacon from before translations reads this version too
                # (without them) instead of refusing a key it does not know.
                "scope_translations": extras.scope.translations,
            }
        ),
    )
    if extras.sentence_vectors is not None:
        with open(directory / SENTENCE_VECTORS, "wb") as f:
            # float16: they only choose the answer sentence among a passage's few, and Python's docs
            # have 84,626 sentences (65 MB so, against 130 MB in float32).
            np.save(f, extras.sentence_vectors.astype(np.float16))
            f.flush()
            os.fsync(f.fileno())
    manifest = replace(manifest, files=file_hashes(directory))
    for p in version_files(directory):
        os.chmod(p, READ_ONLY_FILE)
    write_durably(directory / MANIFEST, orjson.dumps(asdict(manifest), option=orjson.OPT_INDENT_2))
    os.chmod(directory / MANIFEST, READ_ONLY_FILE)


def parse_manifest(raw: bytes) -> Manifest:
    """A manifest from its bytes (a local file, or a replica's download); raises orjson.JSONDecodeError
    or TypeError when they are not one."""
    return Manifest(**orjson.loads(raw))


def read_manifest(directory: Path) -> Manifest:
    try:
        return parse_manifest((directory / MANIFEST).read_bytes())
    except FileNotFoundError as e:
        raise IndexCorruptError(
            f"index version {directory} has no manifest (incomplete build?)",
            "run 'beacon build' to publish a fresh index",
        ) from e
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
    vectors_mode: str = "memory"  # "memory", or "mmap" for an index above IN_MEMORY_MAX_BYTES

    def vector(self, row: int) -> np.ndarray:
        return self.faiss_index.reconstruct(row)

    def search(self, vector: np.ndarray, k: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """(row, cosine score) for the k nearest chunks, best first; with `allowed` (a boolean mask of
        the rows), the nearest among those rows, FAISS skipping the others during the search."""
        return search_faiss(self.faiss_index, vector, min(k, len(self.chunks)), allowed)

    def nearest(self, vector: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """search() as FAISS's own arrays (rows, scores; -1 rows for missing): building the list of pairs
        cost ~40 µs per question."""
        scores, rows = self.faiss_index.search(vector.reshape(1, -1).astype(np.float32), min(k, len(self.chunks)))
        return rows[0], scores[0]

    def vector_reader(self):
        """row -> its stored vector. A flat index (every site below the approximate-search threshold) is
        read in place, as a view of FAISS's own array: reconstruct() copies through SWIG, ~10 µs a row after
        the encoder has run, and a search reads 10-20 rows. Other index kinds are asked row by row."""
        index = self.faiss_index
        if isinstance(index, faiss.IndexFlat) and index.ntotal == len(self.chunks) and index.ntotal:
            vectors = faiss.rev_swig_ptr(index.get_xb(), index.ntotal * index.d).reshape(index.ntotal, index.d)
            return vectors.__getitem__  # whoever keeps the reader keeps this StoredIndex, so the index outlives it
        return self.vector


def search_faiss(index: faiss.Index, vector: np.ndarray, k: int, allowed: np.ndarray | None = None):
    """The k nearest rows of `index` (within the `allowed` mask when given), as (row, score), best first."""
    params = None
    if allowed is not None:
        k = min(k, int(allowed.sum()))
        selector = faiss.IDSelectorBatch(np.flatnonzero(allowed).astype(np.int64))
        # HNSW refuses the generic parameter type; each index family checks for its own.
        params = (
            faiss.SearchParametersHNSW(sel=selector, efSearch=index.hnsw.efSearch)
            if isinstance(index, faiss.IndexHNSW)
            else faiss.SearchParameters(sel=selector)
        )
    if k <= 0:
        return []
    scores, rows = index.search(vector.reshape(1, -1).astype(np.float32), k, params=params)
    return [(int(r), float(v)) for r, v in zip(rows[0], scores[0]) if r >= 0]


_warned_unverified: set[Path] = set()


def load_version(directory: Path) -> StoredIndex:
    """Load, verify (every file against its SHA-256 in the manifest) and cross-check a version;
    raises IndexCorruptError on anything inconsistent. Hashing once per load costs ~1-4 ms for the
    default corpus and ~30 ms for 10k chunks (of a ~320 ms load; bench/verify_cost.py); polls read
    only CURRENT, so a version is hashed once per worker, when it is swapped in."""
    manifest = read_manifest(directory)
    if manifest.format_version != FORMAT_VERSION:
        raise IndexCorruptError(
            f"index in {directory} has format {manifest.format_version}, this Beacon reads {FORMAT_VERSION}",
            "run 'beacon build' to rebuild it",
        )
    if manifest.files:
        if missing := missing_files(manifest.files):
            raise IndexCorruptError(
                f"manifest in {directory} lists no hash for {', '.join(missing)}", "run 'beacon build'"
            )
        verify_files(directory, manifest, skip=(VECTORS,))  # the vectors are checked as they are read
    elif directory.resolve() not in _warned_unverified:
        _warned_unverified.add(directory.resolve())
        log.warning(
            "index version %s was built before file hashes were recorded: loading it unverified "
            "(run 'beacon build --force' to publish a verifiable one)",
            directory.name,
        )
    try:
        index, mode = load_faiss_index(directory / VECTORS, manifest.files.get(VECTORS))
        chunks = [chunk_from_dict(d) for d in orjson.loads((directory / CHUNKS).read_bytes())]
        documents = {d["doc_id"]: _document_from_dict(d) for d in orjson.loads((directory / DOCUMENTS).read_bytes())}
        lexical = LexicalIndex.load(directory / LEXICAL, len(chunks))
        extras = _load_extras(directory)
    except (OSError, RuntimeError, ValueError, KeyError, TypeError) as e:
        raise IndexCorruptError(
            f"index files in {directory} are missing or damaged: {e}", "run 'beacon build' to publish a fresh index"
        ) from e
    if index.ntotal != len(chunks) or len(chunks) != manifest.chunk_count or index.d != manifest.dimension:
        raise IndexCorruptError(
            f"index in {directory} is inconsistent: {index.ntotal} vectors, {len(chunks)} chunks, "
            f"manifest says {manifest.chunk_count}",
            "run 'beacon build' to publish a fresh index",
        )
    return StoredIndex(directory, manifest, index, lexical, chunks, documents, extras, mode)


def load_live(index_dir: Path) -> StoredIndex:
    """The live version of an index folder (the one CURRENT names), loaded and verified."""
    return load_version(current_dir(Path(index_dir)))


def read_live_manifest(index_dir: Path) -> Manifest:
    """The manifest of the live version (without loading or verifying its files)."""
    return read_manifest(current_dir(Path(index_dir)))


def read_site_json(directory: Path) -> dict | None:
    """The site settings a version was built with, None for a version built before site files;
    raises ValueError when the file is not JSON."""
    try:
        return orjson.loads((Path(directory) / SITE_JSON).read_bytes())
    except FileNotFoundError:
        return None


def _load_extras(directory: Path) -> Extras:
    if not (directory / EXTRAS).is_file():
        return Extras()
    data = orjson.loads((directory / EXTRAS).read_bytes())
    vectors = np.load(directory / SENTENCE_VECTORS) if (directory / SENTENCE_VECTORS).is_file() else None
    if vectors is not None and len(vectors) != len(data["sentence_texts"]):
        raise ValueError(f"{len(vectors)} sentence vectors for {len(data['sentence_texts'])} sentences")
    return Extras(
        data["synonyms"],
        data["sentence_rows"],
        data["sentence_texts"],
        vectors,
        Scope(**data.get("scope", {}), translations=data.get("scope_translations", {})),
    )
