"""Query time: dense and lexical retrieval fused by reciprocal rank, and an extractive answer."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from ingest import Chunk
from ingest.text import split_sentences

from . import publish
from .embedder import Embedder
from .errors import IndexCorruptError
from .store import StoredIndex, load_version

Mode = Literal["hybrid", "dense", "lexical"]


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    score: float  # the fused ranking score; higher is better
    dense: float  # cosine similarity of question and passage, in [-1, 1]
    lexical: float  # BM25 score, 0 when no query word occurs in the passage


@dataclass(frozen=True)
class Answer:
    text: str  # the sentence or two of the best passage that answer the question
    result: int  # position in the hits list of the passage it comes from
    score: float


@dataclass(frozen=True)
class SearchResult:
    query: str
    hits: list[Hit]
    answer: Answer | None


@dataclass(frozen=True)
class SearchSettings:
    mode: Mode = "hybrid"
    # Reciprocal rank fusion: score = Σ weight / (rrf_k + rank). 60 is the constant from
    # Cormack et al. (2009); it damps the difference between the first few ranks.
    rrf_k: int = 60
    dense_weight: float = 1.0
    lexical_weight: float = 1.0
    candidates: int = 50  # per retriever, before fusion
    # Below this cosine the best passage is not treated as an answer (all-MiniLM-L6-v2 gives
    # unrelated text roughly 0.0-0.3; the eval tunes this).
    min_answer_score: float = 0.35
    # A weaker semantic match still answers when the question's own words occur in the passage.
    min_answer_score_with_terms: float = 0.2
    min_lexical_for_answer: float = 2.0
    answer_sentences: int = 2


class Searcher:
    """Answers questions over one loaded index version; immutable, so it can be swapped whole."""

    def __init__(self, stored: StoredIndex, embedder: Embedder, settings: SearchSettings = SearchSettings()):
        if stored.manifest.model_sha256 != embedder.weights_sha256:
            raise IndexCorruptError(
                f"index {stored.manifest.version} was built with model '{stored.manifest.model}', "
                f"but the service runs '{embedder.name}'",
                "rebuild with 'beacon build' using the same --model as the service")
        self.stored = stored
        self.embedder = embedder
        self.settings = settings
        # Passage sentences are embedded once per index version, on first use, not per request
        # (it was ~16 ms of a ~22 ms search); bounded by the chunks that ever become answers.
        self._sentence_vectors: dict[str, np.ndarray] = {}

    @property
    def version(self) -> str:
        return self.stored.manifest.version

    def search(self, query: str, k: int = 5, mode: Mode | None = None) -> SearchResult:
        mode = mode or self.settings.mode
        vector = self.embedder.encode_query(query)
        n = self.settings.candidates
        dense = dict(self.stored.search(vector, n)) if mode != "lexical" else {}
        lexical_all = self.stored.lexical.scores(query)
        lexical: dict[int, float] = {}
        if mode != "dense":
            top = np.argsort(-lexical_all)[:n]
            lexical = {int(r): float(lexical_all[r]) for r in top if lexical_all[r] > 0}
        ranked = self._fuse(dense, lexical)[:k]
        hits = []
        for row, fused in ranked:
            cosine = dense[row] if row in dense else float(self.stored.vector(row) @ vector)
            hits.append(Hit(self.stored.chunks[row], fused, cosine, float(lexical_all[row])))
        return SearchResult(query=query, hits=hits, answer=self._answer(vector, hits))

    def _fuse(self, dense: dict[int, float], lexical: dict[int, float]) -> list[tuple[int, float]]:
        s = self.settings
        fused: dict[int, float] = {}
        for weight, scores in ((s.dense_weight, dense), (s.lexical_weight, lexical)):
            for rank, row in enumerate(sorted(scores, key=scores.get, reverse=True)):
                fused[row] = fused.get(row, 0.0) + weight / (s.rrf_k + rank + 1)
        return sorted(fused.items(), key=lambda item: item[1], reverse=True)

    def _answer(self, query_vector: np.ndarray, hits: list[Hit]) -> Answer | None:
        s = self.settings
        if not hits:
            return None
        best = hits[0]
        confident = best.dense >= s.min_answer_score or (
            best.dense >= s.min_answer_score_with_terms and best.lexical >= s.min_lexical_for_answer)
        if not confident:
            return None
        sentences = split_sentences(best.chunk.text)
        if len(sentences) <= self.settings.answer_sentences:
            return Answer(best.chunk.text, 0, best.dense)
        vectors = self._sentence_vectors.get(best.chunk.id)
        if vectors is None:
            vectors = self._sentence_vectors[best.chunk.id] = self.embedder.encode(sentences)
        scores = vectors @ query_vector
        top = int(np.argmax(scores))
        end = min(len(sentences), top + self.settings.answer_sentences)
        return Answer(" ".join(sentences[top:end]), 0, best.dense)


def open_searcher(index_dir: Path, embedder: Embedder, settings: SearchSettings = SearchSettings()) -> Searcher:
    """A Searcher over the live version of an index folder."""
    return Searcher(load_version(publish.current_dir(Path(index_dir))), embedder, settings)
