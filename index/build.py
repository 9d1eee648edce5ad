"""Corpus folder → published index version, embedding only what the cache does not hold."""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.metadata as md
import os
import time
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np
import orjson
from tqdm import tqdm

from ingest import CURATED, CorpusError, CorpusRead, Site, Skipped, iter_documents, load_site, scan_corpus
from ingest.check import build_refusals
from ingest.chunking import CHUNKING_VERSION, chunk_document
from ingest.models import Chunk
from ingest.reader import first_error, no_documents_error
from ingest.scope import load_scope, scope_path
from ingest.synonyms import load_synonyms, synonyms_path
from ingest.text import split_sentences

from . import publish
from .cache import ChunkCache, EmbeddingCache, text_key
from .embedder import Embedder, sentence_spans
from .errors import IndexCorruptError, IndexMissingError, IndexWriteError
from .fitting import fit_site
from .lexical import LEXICAL_VERSION, LexicalIndex
from .store import (
    CHUNKS,
    DOCUMENTS,
    FORMAT_VERSION,
    SITE_JSON,
    Extras,
    JsonArrayWriter,
    Manifest,
    chunk_from_dict,
    chunk_to_dict,
    empty_faiss_index,
    load_live,
    read_live_manifest,
    save_version,
)

# Passages embedded between commits of the embedding cache, so a build that is stopped (Ctrl+C,
# kill, a reboot) keeps all but the last few seconds of work: on the 2-core box 64 passages take
# 2-3 s to embed and a commit a few milliseconds.
BATCH = 64
KEEP_VERSIONS = 3
SORT_WINDOW = 1024
# Vectors go from the cache into the FAISS index this many rows at a time (1.5 MB of 384-d float32).
ADD_ROWS = 1024


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
    # Sentences past the model's window, which the passage's own pass cannot reach, encoded alone:
    # the model ran on embedded + extra_texts texts.
    extra_texts: int = 0


def corpus_fingerprint(
    corpus_dir: Path, model_sha256: str, max_tokens: int | None = None, site: Site | None = None
) -> str:
    """Hash of every corpus file's path and bytes (synonyms and scope too), the site's settings, the model,
    the chunking settings, the BM25 terms and the index format.

    Any change to one of them makes the live index stale, so the next build re-chunks everything."""
    corpus_dir = Path(corpus_dir)
    site = site if site is not None else load_site(corpus_dir, default=CURATED)
    h = hashlib.sha256(
        f"format={FORMAT_VERSION};model={model_sha256};chunking={CHUNKING_VERSION};lexical={LEXICAL_VERSION};"
        f"max_tokens={max_tokens};site={site!r}".encode()
    )
    for path in [*scan_corpus(corpus_dir, site)[0], synonyms_path(corpus_dir), scope_path(corpus_dir)]:
        if not path.is_file():
            continue
        # surrogateescape: a name's own bytes, whatever they are (scan_corpus refuses names that are not
        # UTF-8, but the synonyms and scope files are named here). Streamed: a file over its size cap
        # is still hashed (its error line must change when it does) without being held in memory.
        h.update(os.fsencode(path.relative_to(corpus_dir).as_posix()) + b"\0")
        with path.open("rb") as f:
            h.update(hashlib.file_digest(f, "sha256").digest())
    return h.hexdigest()


def is_stale(
    corpus_dir: Path, index_dir: Path, model_sha256: str, max_tokens: int | None = None, site: Site | None = None
) -> bool:
    """True when no valid index is live or it was built from other files, another model or other
    chunking settings. Without max_tokens (the model not loaded yet) the live index's own is assumed."""
    try:
        manifest = read_live_manifest(index_dir)
    except (IndexMissingError, IndexCorruptError):
        return True
    tokens = manifest.max_tokens if max_tokens is None else max_tokens
    return manifest.corpus_sha256 != corpus_fingerprint(corpus_dir, model_sha256, tokens, site)


def _digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


def _previous_digests(index_dir: Path) -> dict[str, bytes]:
    """id → digest of each chunk of the live version, for the added/changed/removed summary. Read
    before the corpus, and kept as digests: the old version's text is never held beside the new one's."""
    try:
        data = orjson.loads((publish.current_dir(index_dir) / CHUNKS).read_bytes())
    except (IndexMissingError, OSError, ValueError):
        return {}
    return {d["id"]: _digest(d["text"]) for d in data}


@dataclass
class _Corpus:
    """What reading leaves in memory: the chunks (the one copy of the site's text a build holds),
    each chunk's document language, each document's path and id, and the counts to report."""

    chunks: list[Chunk]
    langs: list[str | None]
    ids: dict[str, str]  # each document read: its path under the corpus -> its id
    outcome: CorpusRead

    @property
    def documents(self) -> int:
        return len(self.ids)


def _read_and_chunk(
    corpus_dir: Path, site: Site, embedder: Embedder, cache_dir: Path, staged: Path, progress: bool
) -> _Corpus:
    """Read one document at a time, write it to the version's documents file and keep only its chunks.

    A page's sections (text and HTML) live only while that page is read, so the build never holds
    the whole site twice. Chunks come from the cache when the document is unchanged: splitting a long
    section counts tokens again for every sentence it adds, which on Python's docs (4,239 sections,
    1.4M words) took 110 s, so a one-page edit could not rebuild in seconds. A document's chunks depend
    only on the document and the model's tokenizer and window, so they are kept by the hash of the
    whole Document."""
    outcome = CorpusRead()
    chunks: list[Chunk] = []
    langs: list[str | None] = []
    used: list[str] = []
    ids: dict[str, str] = {}
    documents = iter_documents(corpus_dir, site, outcome)
    with (
        ChunkCache(cache_dir, embedder.weights_sha256, embedder.max_tokens, CHUNKING_VERSION) as cache,
        JsonArrayWriter(staged / DOCUMENTS) as written,
        tqdm(
            total=outcome.files,
            unit="file",
            desc="Reading",
            disable=not progress or outcome.files < 50,
            dynamic_ncols=True,
        ) as bar,
    ):
        for doc in documents:
            key = hashlib.sha256(written.write(doc)).hexdigest()
            stored = cache.get_chunks(key)
            if stored is None:
                fresh = chunk_document(doc, embedder.max_tokens, embedder.count_tokens)
                cache.put_chunks(key, [chunk_to_dict(c) for c in fresh])
            else:
                fresh = [chunk_from_dict(d) for d in stored]
            used.append(key)
            ids[doc.path] = doc.doc_id
            chunks.extend(fresh)
            langs.extend([doc.lang] * len(fresh))
            bar.update(outcome.done - bar.n)  # files that failed or were skipped count too
        bar.update(outcome.done - bar.n)
        cache.keep_only(used)
    return _Corpus(chunks, langs, ids, outcome)


@dataclass
class _Embedded:
    index: faiss.Index
    sentence_rows: list[int]  # the chunk row of each sentence
    sentence_texts: list[str]
    sentence_vectors: np.ndarray  # float16, one row per sentence
    embedded: int  # chunks that needed the model
    extra_texts: int  # sentences encoded on their own (past the model's window)


def _embed(chunks: list[Chunk], embedder: Embedder, cache: EmbeddingCache, progress: bool) -> _Embedded:
    """The FAISS index of the chunks and their sentences' vectors, one model pass per chunk.

    Each sentence's vector is pooled from its passage's token vectors (Embedder.stream_passages)
    instead of a model call of its own: embedding every sentence as well made 5,978 texts of the
    FastAPI docs' 886 passages (6.7 per passage). Vectors go from the cache (on disk)
    straight into the index, so neither every embedded text nor every vector is held twice."""
    texts = [c.embedding_text() for c in chunks]
    sentences = [split_sentences(c.text) for c in chunks]
    keys = [text_key(t) for t in texts]
    # Sorted by length within windows of SORT_WINDOW passages, so each batch pads to a similar length
    # (one long passage no longer pads a page's short ones), while every window still holds a mix of
    # lengths and the progress bar's ETA stays honest.
    todo = [i for i, k in enumerate(keys) if not cache.has(k, len(sentences[i]))]
    todo = [
        i
        for w in range(0, len(todo), SORT_WINDOW)
        for i in sorted(todo[w : w + SORT_WINDOW], key=lambda i: len(texts[i]))
    ]
    spans = [sentence_spans(chunks[i].text, sentences[i], len(texts[i]) - len(chunks[i].text)) for i in todo]
    extra = committed = 0
    # smoothing=0: the ETA comes from the average rate since the start, not the last few batches
    # (which swung the estimate between 2 and 90 minutes when short sentences and long passages mixed).
    with tqdm(
        total=len(todo),
        unit="passage",
        desc="Embedding",
        disable=not progress or not todo,
        dynamic_ncols=True,
        smoothing=0,
    ) as bar:
        for rows, vectors, pooled, alone in embedder.stream_passages([texts[i] for i in todo], spans):
            for row, v, s in zip(rows, vectors, pooled):
                cache.put(keys[todo[row]], v, s)
            # What is embedded survives a stopped build (the cache also commits when it closes).
            if rows[-1] + 1 - committed >= BATCH:
                cache.commit()
                committed = rows[-1] + 1
            extra += alone
            bar.update(len(rows))
        cache.commit()
    cache.keep_only(keys)
    index = empty_faiss_index(len(chunks), embedder.dimension)
    for start in range(0, len(chunks), ADD_ROWS):
        index.add(cache.vectors(keys[start : start + ADD_ROWS]))
    parts = [cache.sentence_vectors(k) for k in keys]
    return _Embedded(
        index,
        [row for row, s in enumerate(sentences) for _ in s],
        [t for s in sentences for t in s],
        np.concatenate(parts) if parts else np.zeros((0, embedder.dimension), np.float16),
        len(todo),
        extra,
    )


def _refuse_what_check_refuses(corpus_dir: Path, site: Site, ids: dict[str, str]) -> None:
    """A curated corpus whose pages link to documents that do not exist stops the build, as `beacon
    check` reports it (file and line): published, the links would lead readers to a 404. `ids`: the
    documents read ({path under the corpus: id})."""
    refused = build_refusals(corpus_dir, site, ids)
    if refused:
        first = refused[0]
        more = f" (and {len(refused) - 1} more: run 'beacon check' for the list)" if len(refused) > 1 else ""
        raise CorpusError(first.path, first.line, first.message + more, first.hint)


def _package_versions() -> dict:
    out = {}
    for name in ("faiss-cpu", "sentence-transformers", "torch", "transformers"):
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            pass
    return out


def _write_site(directory: Path, site: Site, fitted: dict | None = None) -> None:
    """The site's public settings; a weight the build chose (`fitted`) only where the site file sets none."""
    directory.mkdir(parents=True, exist_ok=True)
    public = site.public()
    public["search"] = {**(fitted or {}), **public["search"]}
    publish.write_durably(directory / SITE_JSON, orjson.dumps(public))


def _up_to_date(index_dir: Path, fingerprint: str) -> bool:
    try:
        manifest = read_live_manifest(index_dir)
    except (IndexMissingError, IndexCorruptError):
        return False
    return manifest.corpus_sha256 == fingerprint and _live_version_loads(index_dir)


def _live_version_loads(index_dir: Path) -> bool:
    """A current manifest with damaged files beside it must not count as up to date: the service's
    advice for a damaged index is 'beacon build', so that has to publish a fresh version."""
    try:
        load_live(index_dir)
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
            manifest = read_live_manifest(index_dir)
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
        synonyms = load_synonyms(corpus_dir)
        scope = load_scope(corpus_dir)
        before = _previous_digests(index_dir)
        version = publish.new_version_name()
        try:
            staged = publish.staging_dir(index_dir, version)
            corpus = _read_and_chunk(corpus_dir, site, embedder, index_dir / "cache", staged, progress)
            errors = corpus.outcome.errors
            # A corpus problem stops the build before any embedding; only the staging folder was written.
            if errors and site.on_error == "stop":
                raise first_error(errors)
            if not corpus.documents:
                if errors:
                    raise first_error(errors)
                raise no_documents_error(corpus_dir, site)
            if site.strict:
                _refuse_what_check_refuses(corpus_dir, site, corpus.ids)
            chunks = corpus.chunks
            with EmbeddingCache(
                index_dir / "cache", embedder.weights_sha256, embedder.dimension, embedder.max_tokens
            ) as cache:
                embedded = _embed(chunks, embedder, cache, progress)
            manifest = Manifest(
                format_version=FORMAT_VERSION,
                version=version,
                model=embedder.name,
                model_sha256=embedder.weights_sha256,
                dimension=embedder.dimension,
                max_tokens=embedder.max_tokens,
                corpus_sha256=fingerprint,
                chunk_count=len(chunks),
                document_count=corpus.documents,
                index_type=type(embedded.index).__name__,
                built_at=dt.datetime.now(dt.UTC).isoformat(),
                build_seconds=round(time.perf_counter() - started, 3),
                versions=_package_versions(),
            )
            lexical = LexicalIndex.build(chunks, corpus.langs)  # one BM25 index per language edition
            # A site file that asks for it (lexical_weight = "fit") gets a weight chosen from its own pages.
            fitted = (
                fit_site(chunks, corpus.langs, embedded.index, lexical, embedder).public()
                if site.fit_lexical_weight and site.lexical_weight is None
                else None
            )
            # Before save_version, whose manifest, written last, marks the version complete.
            _write_site(staged, site, fitted)
            save_version(
                staged,
                manifest,
                embedded.index,
                lexical,
                chunks,
                Extras(synonyms, embedded.sentence_rows, embedded.sentence_texts, embedded.sentence_vectors, scope),
            )
            publish.publish(index_dir, staged, version)
        except OSError as e:
            # Disk full or a file-size limit: nothing was published, the staging debris goes at the next build.
            raise IndexWriteError(
                f"could not write the new index in {index_dir}: {e.strerror or e}",
                "free some disk space and run 'beacon build' again; the live index was not changed",
            ) from e
        finally:
            publish.remove_tree(index_dir / publish.STAGING / version)  # moved away once published
        publish.prune_versions(index_dir, keep)
    after = {c.id: _digest(c.text) for c in chunks}
    return BuildReport(
        version=version,
        documents=corpus.documents,
        chunks=len(chunks),
        embedded=embedded.embedded,
        reused=len(chunks) - embedded.embedded,
        added=len(after.keys() - before.keys()),
        changed=sum(1 for k in after.keys() & before.keys() if after[k] != before[k]),
        removed=len(before.keys() - after.keys()),
        seconds=time.perf_counter() - started,
        skipped=corpus.outcome.skipped,
        errors=tuple(str(e) for e in corpus.outcome.errors),
        extra_texts=embedded.extra_texts,
    )
