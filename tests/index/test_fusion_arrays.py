"""The array fusion the searcher runs (search.fuse_by_language) ranks exactly as fusing each edition's
dict rankings with fuse() and merging them: the same rows, the same scores to the last bit, and the
same order among ties, which a faster rewrite could easily reorder."""

from __future__ import annotations

import random

import numpy as np
import pytest

from index.fusion import fuse, fuse_by_language


def reference(rankings, rrf_k, langs, lang, factor, candidates, method):
    """The dict-based fusion fuse_by_language replaced, kept as the definition to compare with."""

    def candidates_of(scores, edition):
        return sorted((r for r in scores if langs[r] == edition), key=scores.get, reverse=True)[:candidates]

    # Scores are scaled by the question's edition's candidates (all candidates when it has none).
    scale_by = []
    for _, scores in rankings:
        own = [scores[r] for r in candidates_of(scores, lang)]
        scale_by.append(own or [scores[r] for e in set(langs) for r in candidates_of(scores, e)])
    merged = []
    for edition in sorted(set(langs)):
        own = [(weight, {r: scores[r] for r in candidates_of(scores, edition)}) for weight, scores in rankings]
        scale = 1.0 if edition == lang else factor
        merged.extend((row, score * scale) for row, score in fuse(own, rrf_k, method, scale_by))
    return sorted(merged, key=lambda item: item[1], reverse=True)


@pytest.mark.parametrize("method", ["scores", "rrf"])
@pytest.mark.parametrize("seed", range(40))
def test_array_fusion_equals_the_dict_fusion_ties_included(seed, method):
    rng = random.Random(seed)
    n = rng.randint(1, 60)
    editions = ["en", "zh", "fr"][: rng.randint(1, 3)]
    langs = [rng.choice(editions) for _ in range(n)]
    rankings = []
    for weight in (rng.choice([1.0, 0.0, 0.35]), 1.5):
        rows = rng.sample(range(n), rng.randint(0, n))
        # Few distinct scores, so ties are common, in whatever order the retriever gave them.
        rankings.append((weight, {r: float(np.float32(rng.choice([0.5, 0.25, 0.125, 1 / 3]))) for r in rows}))
    lang, factor, candidates = rng.choice(editions + ["de"]), rng.choice([0.7, 1.0, 0.4]), rng.randint(1, 20)
    expected = reference(rankings, 60, langs, lang, factor, candidates, method)

    codes = sorted(set(langs))
    arrays = [(w, np.array(list(d), dtype=np.int64), np.array(list(d.values()), dtype=np.float32)) for w, d in rankings]
    rows, scores = fuse_by_language(
        arrays,
        60,
        np.array([codes.index(l) for l in langs], dtype=np.int64),
        codes.index(lang) if lang in codes else -1,
        factor,
        candidates,
        method,
    )
    assert list(zip(rows.tolist(), scores.tolist())) == expected
