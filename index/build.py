"""Corpus folder → published index version, embedding only what the cache does not hold."""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.metadata as md
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import orjson
from tqdm import tqdm

from ingest import CURATED, CorpusError, Site, Skipped, load_site, scan_corpus
from ingest.chunking import CHUNKING_VERSION, chunk_document
from ingest.errors import SkipFile
from ingest.models import Chunk, Link
from ingest.reader import first_error, no_documents_error, read_document
from ingest.scope import load_scope, scope_path
from ingest.synonyms import load_synonyms, synonyms_path
from ingest.text import split_sentences

from . import publish
from .cache import EmbeddingCache, text_key
from .embedder import Embedder
from .errors import IndexCorruptError, IndexMissingError, IndexWriteError
from .lexical import LexicalIndex
from .store import CHUNKS, FORMAT_VERSION, Extras, Manifest, load_version, make_faiss_index, read_manifest, save_version

BATCH = 64
KEEP_VERSIONS = 3
# The cache is written every this many new vectors, so a long first build that is stopped (Ctrl+C,
# a reboot) resumes from there instead of from nothing.
CHECKPOINT_TEXTS = 4096
# Every sentence of every passage is embedded at build time so that picking the answer sentence needs
# no model call. On Python's docs (~12k passages) that is ~85k sentences, 87% of the embedding work
# (hours on a small machine); above this many passages the sentences of the one passage an answer
# comes from are embedded at query time instead (index/search.py's fallback: same vectors, a few
# more milliseconds per answered question).
SENTENCE_VECTORS_MAX_CHUNKS = 4000
# The site's public settings (name, copy, base URL) travel with each version, so the service shows
# the words of the corpus it serves; written beside the store's files (index/store.py reads none of it).
SITE_JSON = "site.json"


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
    skipped: Skipped | None = None  # files left out, by reason
    errors: tuple[str, ...] = ()  # files that could not be read and were left out (on_error = "skip"), as messages


def corpus_fingerprint(
    corpus_dir: Path, model_sha256: str, max_tokens: int | None = None, site: Site | None = None
) -> str:
    """Hash of every corpus file's path and bytes (synonyms and scope too), the site's settings, the model,
    the chunking settings and the index format.

    Any change to one of them makes the live index stale, so the next build re-chunks everything."""
    corpus_dir = Path(corpus_dir)
    site = site if site is not None else load_site(corpus_dir, default=CURATED)
    h = hashlib.sha256(
        f"format={FORMAT_VERSION};model={model_sha256};chunking={CHUNKING_VERSION};"
        f"max_tokens={max_tokens};site={site!r}".encode()
    )
    for path in [*scan_corpus(corpus_dir, site)[0], synonyms_path(corpus_dir), scope_path(corpus_dir)]:
        if not path.is_file():
            continue
        h.update(path.relative_to(corpus_dir).as_posix().encode() + b"\0")
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def is_stale(
    corpus_dir: Path, index_dir: Path, model_sha256: str, max_tokens: int | None = None, site: Site | None = None
) -> bool:
    """True when no valid index is live or it was built from other files, another model or other
    chunking settings. Without max_tokens (the model not loaded yet) the live index's own is assumed."""
    try:
        manifest = read_manifest(publish.current_dir(index_dir))
    except (IndexMissingError, IndexCorruptError):
        return True
    tokens = manifest.max_tokens if max_tokens is None else max_tokens
    return manifest.corpus_sha256 != corpus_fingerprint(corpus_dir, model_sha256, tokens, site)


def read_documents(corpus_dir: Path, site: Site, progress: bool = False) -> tuple[list, Skipped, list[CorpusError]]:
    """Every document, the files skipped and the files that failed; a progress bar (with ETA) for big sites."""
    files, skipped = scan_corpus(corpus_dir, site)
    documents, errors = [], []
    with tqdm(files, unit="file", desc="Reading", disable=not progress or len(files) < 50, dynamic_ncols=True) as bar:
        for path in bar:
            try:
                documents.append(read_document(path, corpus_dir, site))
            except CorpusError as e:
                errors.append(e)
            except SkipFile as skip:
                shown = (Path(corpus_dir.name) / path.relative_to(corpus_dir)).as_posix()
                (skipped.drafts if skip.reason == "draft" else skipped.noindex).append(shown)
            except OSError as e:
                errors.append(
                    CorpusError(path, None, f"cannot read the file: {e.strerror or e}", "check its permissions")
                )
    return documents, skipped, errors


def _embed(texts: list[str], embedder: Embedder, cache: EmbeddingCache, progress: bool) -> tuple[np.ndarray, list[int]]:
    """Vectors for the texts, and which of them needed the model."""
    keys = [text_key(t) for t in texts]
    todo = [i for i, k in enumerate(keys) if cache.get(k) is None]
    with tqdm(
        total=len(todo), unit="text", desc="Embedding", disable=not progress or not todo, dynamic_ncols=True
    ) as bar:
        for start in range(0, len(todo), BATCH):
            batch = todo[start : start + BATCH]
            vectors = embedder.encode([texts[i] for i in batch])
            for i, v in zip(batch, vectors):
                cache.put(keys[i], v)
            bar.update(len(batch))
            if (start // BATCH + 1) % (CHECKPOINT_TEXTS // BATCH) == 0:
                cache.save(keep=set(keys))
    cache.save(keep=set(keys))
    matrix = np.empty((len(keys), embedder.dimension), np.float32)  # filled in place: one copy of the vectors
    for row, k in enumerate(keys):
        matrix[row] = cache.get(k)
    return matrix, todo


def _previous_chunks(index_dir: Path) -> dict[str, str]:
    """id → text of the live version's chunks, for the added/changed/removed summary."""
    try:
        data = orjson.loads((publish.current_dir(index_dir) / CHUNKS).read_bytes())
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


def _chunk_with_cache(documents: list, embedder: Embedder, cache_dir: Path) -> list[Chunk]:
    """chunk_documents, reusing the chunks of documents that did not change since the last build.

    Splitting a long section counts tokens again for every sentence it adds; on Python's docs
    (4,239 sections, 1.4M words) that took 110 s of a rebuild on this box, so a one-page edit could
    not rebuild in seconds. A document's chunks depend only on the document and the model's
    tokenizer and window, so they are kept by the hash of the whole Document."""
    path = cache_dir / f"chunks-{embedder.weights_sha256[:16]}-{embedder.max_tokens}-v{CHUNKING_VERSION}.json"
    try:
        previous = orjson.loads(path.read_bytes())
    except (OSError, ValueError):
        previous = {}
    kept: dict[str, list[dict]] = {}
    chunks: list[Chunk] = []
    for doc in documents:
        key = hashlib.sha256(orjson.dumps(doc)).hexdigest()
        stored = previous.get(key)
        if stored is None:
            fresh = chunk_document(doc, embedder.max_tokens, embedder.count_tokens)
            stored = [{k: v for k, v in vars(c).items() if k != "extra"} for c in fresh]
        else:
            fresh = [
                Chunk(
                    **{
                        **d,
                        "links": tuple(Link(**l) for l in d["links"]),
                        "aliases": tuple(d["aliases"]),
                        "tags": tuple(d["tags"]),
                    }
                )
                for d in stored
            ]
        kept[key] = stored
        chunks.extend(fresh)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(orjson.dumps(kept))
        os.replace(tmp, path)  # a cache: no fsync needed, a torn one is only a slower next build
    except OSError:
        # Disk full: not this cache's failure to report. The version written next fails the same way
        # and says so (IndexWriteError), leaving the live index as it was.
        tmp.unlink(missing_ok=True)
    return chunks


def _write_site(directory: Path, site: Site) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    publish.write_durably(directory / SITE_JSON, orjson.dumps(site.public()))


def _up_to_date(index_dir: Path, fingerprint: str) -> bool:
    try:
        manifest = read_manifest(publish.current_dir(index_dir))
    except (IndexMissingError, IndexCorruptError):
        return False
    return manifest.corpus_sha256 == fingerprint and _live_version_loads(index_dir)


def _live_version_loads(index_dir: Path) -> bool:
    """A current manifest with damaged files beside it must not count as up to date: the service's
    advice for a damaged index is 'beacon build', so that has to publish a fresh version."""
    try:
        load_version(publish.current_dir(index_dir))
    except (IndexMissingError, IndexCorruptError):
        return False
    return True


def build_index(
    corpus_dir: Path,
    index_dir: Path,
    embedder: Embedder,
    *,
    progress: bool = False,
    force: bool = False,
    keep: int = KEEP_VERSIONS,
    site: Site | None = None,
) -> BuildReport:
    """Read, chunk, embed and publish atomically. A failure at any step leaves the live index as it was.

    Without a Site, the corpus's own beacon.toml is used if it has one, else the curated rules. A file
    that cannot be read stops the build (on_error = "stop") or is left out and reported ("skip")."""
    corpus_dir, index_dir = Path(corpus_dir), Path(index_dir)
    site = site if site is not None else load_site(corpus_dir, default=CURATED)
    started = time.perf_counter()
    with publish.build_lock(index_dir):
        fingerprint = corpus_fingerprint(corpus_dir, embedder.weights_sha256, embedder.max_tokens, site)
        if not force and _up_to_date(index_dir, fingerprint):
            manifest = read_manifest(publish.current_dir(index_dir))
            return BuildReport(
                None,
                manifest.document_count,
                manifest.chunk_count,
                0,
                manifest.chunk_count,
                0,
                0,
                0,
                time.perf_counter() - started,
            )
        # Problems are raised before anything is written.
        documents, skipped, errors = read_documents(corpus_dir, site, progress)
        if errors and site.on_error == "stop":
            raise first_error(errors)
        if not documents:
            if errors:
                raise first_error(errors)
            raise (
                CorpusError(
                    corpus_dir, None, "corpus has no .md or .txt files", "add a Markdown file; see corpus/README.md"
                )
                if site.strict
                else no_documents_error(corpus_dir, site)
            )
        synonyms = load_synonyms(corpus_dir)
        scope = load_scope(corpus_dir)
        chunks = _chunk_with_cache(documents, embedder, index_dir / "cache")
        try:
            before = _previous_chunks(index_dir)
            cache = EmbeddingCache(
                index_dir / "cache", embedder.weights_sha256, embedder.dimension, embedder.max_tokens
            )
            # Sentences are embedded too, so query time picks the answer sentence without the model.
            sentences = (
                [(row, s) for row, c in enumerate(chunks) for s in split_sentences(c.text)]
                if len(chunks) <= SENTENCE_VECTORS_MAX_CHUNKS
                else []
            )
            texts = [c.embedding_text() for c in chunks] + [s for _, s in sentences]
            matrix, todo = _embed(texts, embedder, cache, progress)
            vectors, sentence_vectors = matrix[: len(chunks)], matrix[len(chunks) :]
            embedded = sum(1 for i in todo if i < len(chunks))
            version = publish.new_version_name()
            staged = publish.staging_dir(index_dir, version)
            faiss_index = make_faiss_index(vectors)
            manifest = Manifest(
                format_version=FORMAT_VERSION,
                version=version,
                model=embedder.name,
                model_sha256=embedder.weights_sha256,
                dimension=embedder.dimension,
                max_tokens=embedder.max_tokens,
                corpus_sha256=fingerprint,
                chunk_count=len(chunks),
                document_count=len(documents),
                index_type=type(faiss_index).__name__,
                built_at=dt.datetime.now(dt.UTC).isoformat(),
                build_seconds=round(time.perf_counter() - started, 3),
                versions=_package_versions(),
            )
            _write_site(staged, site)  # before save_version, whose manifest, written last, marks the version complete
            lang_of = {d.doc_id: d.lang for d in documents}  # BM25 keeps one index per language edition
            lexical = LexicalIndex.build(chunks, [lang_of.get(c.doc_id) for c in chunks])
            save_version(
                staged,
                manifest,
                faiss_index,
                lexical,
                chunks,
                documents,
                Extras(synonyms, [row for row, _ in sentences], [s for _, s in sentences], sentence_vectors, scope),
            )
            publish.publish(index_dir, staged, version)
        except OSError as e:
            # Disk full or a file-size limit: nothing was published, the staging debris goes at the next build.
            raise IndexWriteError(
                f"could not write the new index in {index_dir}: {e.strerror or e}",
                "free some disk space and run 'beacon build' again; the live index was not changed",
            ) from e
        publish.prune_versions(index_dir, keep)
    after = {c.id: c.text for c in chunks}
    return BuildReport(
        version=version,
        documents=len(documents),
        chunks=len(chunks),
        embedded=embedded,
        reused=len(chunks) - embedded,
        added=len(after.keys() - before.keys()),
        changed=sum(1 for k in after.keys() & before.keys() if after[k] != before[k]),
        removed=len(before.keys() - after.keys()),
        seconds=time.perf_counter() - started,
        skipped=skipped,
        errors=tuple(str(e) for e in errors),
    )
