"""A site's fusion weight, chosen at build time from questions made of its own pages: no labels needed.

Each pseudo-question is a sentence from inside a passage (or a section heading), asked with that
passage left out of both retrievers, so the right answer is another passage of the same page. A
question whose own passage stays in would favour whichever retriever matches exact words (BM25
finds a sentence it contains verbatim); with it left out, both must find the page from what the rest
of the page says about the same thing, which is what a reader's question asks of them.

Measured (docs/quality.md, "More sites, three systems, one run"): it keeps the default on the
thyroid guide, Python's, Django's and Git's docs and picks 3.0 on the Rust book; it has not yet
found a weight better than the default on any site. A page's own sentences share its wording, which
a reader's paraphrase does not, so they flatter exact words: Python's and Git's docs rank real
questions best at 0, yet their pseudo-questions rank 0 worst."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ingest import Chunk
from ingest.text import split_sentences

from .fusion import LEXICAL_WEIGHT, fuse

# Lexical weights tried (the dense weight stays 1.0: the fused order only depends on their ratio).
LEXICAL_GRID = (0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0)
MAX_QUESTIONS = 400
# Fewer pseudo-questions than this and the choice is noise: the site keeps the default weight.
MIN_QUESTIONS = 30
SEED = 27  # the same pages give the same questions, so a rebuild chooses the same weight


@dataclass(frozen=True)
class PseudoQuestion:
    text: str
    doc_id: str  # the page that answers it
    leave_out: frozenset[int]  # rows it was made from, hidden from both retrievers


@dataclass(frozen=True)
class Fit:
    lexical_weight: float
    questions: int
    mrr: dict[float, float]  # MRR@10 of the page at each weight tried

    def public(self) -> dict:
        """What site.json keeps of the choice (the searcher reads lexical_weight; the rest says why)."""
        return {
            "lexical_weight": self.lexical_weight,
            "fitted": {"questions": self.questions, "mrr": {str(w): round(m, 4) for w, m in self.mrr.items()}},
        }


def pseudo_questions(
    chunks: Sequence[Chunk], readable: Sequence[bool], limit: int = MAX_QUESTIONS, seed: int = SEED
) -> list[PseudoQuestion]:
    """Sentences from the middle of passages of pages with more than one passage, one per passage,
    at most `limit`, spread over the site. `readable[row]`: the embedding model reads that row's
    language (a question in another language would measure nothing)."""
    rows_of: dict[str, list[int]] = {}
    for row, chunk in enumerate(chunks):
        if readable[row]:
            rows_of.setdefault(chunk.doc_id, []).append(row)
    rng = random.Random(seed)
    found = []
    for doc_id, rows in rows_of.items():
        if len(rows) < 2:
            continue
        for row in rows:
            # Not the first sentence: it often restates the heading, which is in the passage's own
            # embedding and BM25 text but not the page's other passages.
            sentences = [s for s in split_sentences(chunks[row].text)[1:] if 40 <= len(s) <= 240]
            if sentences:
                found.append(PseudoQuestion(rng.choice(sentences), doc_id, frozenset({row})))
    rng.shuffle(found)
    return found[:limit]


def choose_lexical_weight(
    questions: Sequence[PseudoQuestion],
    vectors: np.ndarray,
    dense_search: Callable[[np.ndarray, int], list[list[tuple[int, float]]]],
    lexical_scores: Callable[[str], np.ndarray],
    doc_ids: Sequence[str],
    default: float,
    rrf_k: int = 60,
    candidates: int = 50,
) -> Fit:
    """The weight in LEXICAL_GRID whose fused ranking puts each question's page highest (MRR@10 of
    its document), any weight within two standard errors of the best counting as equal and the one
    nearest `default` kept; `default` when there are too few questions. `dense_search(vectors, k)`
    gives each vector's (row, cosine) list, best first."""
    if len(questions) < MIN_QUESTIONS:
        return Fit(default, len(questions), {})

    dense_found = dense_search(vectors, candidates + 1)
    per_question = []
    for question, found in zip(questions, dense_found, strict=True):
        dense = {r: s for r, s in found if r not in question.leave_out and r >= 0}
        scores = lexical_scores(question.text)
        scores[list(question.leave_out)] = 0.0
        top = np.argsort(-scores)[:candidates]
        lexical = {int(r): float(scores[r]) for r in top if scores[r] > 0}
        per_question.append((dense, lexical))
    reciprocal = {}  # weight -> each question's 1/rank of its page (0 beyond the tenth)
    for weight in LEXICAL_GRID:
        ranks = []
        for question, (dense, lexical) in zip(questions, per_question):
            pages: list[str] = []
            for row, _ in fuse([(1.0, dense), (weight, lexical)], rrf_k):
                if doc_ids[row] not in pages:
                    pages.append(doc_ids[row])
                if len(pages) == 10:
                    break
            ranks.append(1 / (pages.index(question.doc_id) + 1) if question.doc_id in pages else 0.0)
        reciprocal[weight] = np.asarray(ranks)
    mrr = {w: float(r.mean()) for w, r in reciprocal.items()}
    best = max(mrr, key=mrr.get)
    # Any weight whose MRR is within two standard errors of the best's (paired over the same
    # questions, about a 95% interval) is as good as these questions can tell; of those, the one
    # nearest the default. On the thyroid guide (68 questions) 2.0 is best, 0.019 ahead of 1.5 with a
    # standard error of 0.011 (7 questions better, 4 worse): noise, so the guide keeps 1.5, the weight
    # its labelled questions chose. (One standard error, Breiman's rule in CART, let such noise move it.)
    n = len(questions)

    def within_error(weight: float) -> bool:
        diff = reciprocal[best] - reciprocal[weight]
        return float(diff.mean()) <= 2 * float(diff.std(ddof=1)) / np.sqrt(n)

    chosen = min((w for w in LEXICAL_GRID if within_error(w)), key=lambda w: abs(w - default))
    return Fit(chosen, len(questions), mrr)


def fit_site(chunks: Sequence[Chunk], langs: Sequence[str | None], faiss_index, lexical, embedder) -> Fit:
    """The lexical weight for a site just built (index/build.py stores it in the version's site.json)."""
    from . import language
    from .search import SearchSettings  # search imports build, which imports this module

    readable = [
        language.language_of(c.doc_id, lang) in SearchSettings.dense_languages for c, lang in zip(chunks, langs)
    ]
    questions = pseudo_questions(chunks, readable)
    if len(questions) < MIN_QUESTIONS:
        return Fit(LEXICAL_WEIGHT, len(questions), {})

    def dense_search(vectors: np.ndarray, k: int) -> list[list[tuple[int, float]]]:
        scores, rows = faiss_index.search(vectors.astype(np.float32), k)
        return [[(int(r), float(v)) for r, v in zip(rr, ss) if r >= 0] for rr, ss in zip(rows, scores)]

    vectors = np.stack([embedder.encode_query(q.text) for q in questions])
    return choose_lexical_weight(
        questions, vectors, dense_search, lexical.scores, [c.doc_id for c in chunks], LEXICAL_WEIGHT
    )
