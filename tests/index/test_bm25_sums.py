"""LexicalIndex scores a question with its own loop over bm25s's postings; the scores are bm25s's own,
to the last bit (float32 sums in the same order), duplicate words and every BM25 variant included."""

from __future__ import annotations

import random

import bm25s
import numpy as np
import pytest

from index.lexical import _bm25_scores

WORDS = "thyroid cancer group forum iodine patients surgery radioactive diet low talk share story".split()


@pytest.mark.parametrize("method", ["lucene", "robertson", "atire", "bm25l", "bm25+"])
def test_the_same_scores_as_bm25s(method):
    rng = random.Random(5)
    corpus = [[rng.choice(WORDS) for _ in range(rng.randint(1, 30))] for _ in range(200)]
    bm25 = bm25s.BM25(method=method)
    bm25.index(corpus, show_progress=False)
    for _ in range(300):
        ids = [bm25.vocab_dict[rng.choice(WORDS)] for _ in range(rng.randint(1, 8))]  # repeats too
        assert np.array_equal(_bm25_scores(bm25, ids), bm25.get_scores_from_ids(ids))
