"""Fusion of the dense and lexical rankings: normalised scores added (or weighted reciprocal rank
fusion), per language edition, and the weights a site gives none (txtai keeps its fusion in a module of
its own too)."""

from __future__ import annotations

import numpy as np

# The fusion weights of a site that gives none. Each retriever's scores are min-max normalised over its
# candidates and added (docs/quality.md, "Fusion"), meaning at 1.0 and exact words at 0.5: swept over
# 0.25-2.0 on the tuning questions of four sites, 0.5 ranked best summed over them (MRR@10 3.344
# against 3.251 at 1.0, BM25 over stems as now; 3.409 against 3.262 with written words too) and best
# on each documentation site; the thyroid guide's own questions want more (0.931 at 0.5, 0.937 at
# 1.0), so its site file (corpus/beacon.toml) keeps 1.0. A site file may set its own weights (Python's
# documentation sets lexical_weight = 0) or have the build fit one ("fit", index/fitting.py).
DENSE_WEIGHT = 1.0
LEXICAL_WEIGHT = 0.5

# How two rankings are fused. "scores": min-max normalised scores, weighted and added (the default);
# "rrf": weighted reciprocal rank fusion, Σ weight / (rrf_k + rank) (Cormack et al., 2009), which reads
# ranks only, so a retriever's clear winner counts no more than a near tie; kept for comparison.
FUSIONS = ("scores", "rrf")

# A ranking of rows, best first: (rows, scores), two arrays of one length.
Ranking = tuple[np.ndarray, np.ndarray]
NO_RANKING: Ranking = (np.zeros(0, np.int64), np.zeros(0, np.float32))


def fuse_by_language(
    rankings: list[tuple[float, np.ndarray, np.ndarray]],
    rrf_k: int,
    editions: np.ndarray,
    lang: int,
    factor: float,
    candidates: int,
    method: str = "scores",
) -> Ranking:
    """Each edition fused on its own, then merged with the other editions' scores times factor.

    Ranks are counted within an edition and scores scaled by the question's own edition's range, so
    an English question ranks the English passages exactly as it would without a translation beside
    them (Chinese passages, which the
    English model embeds poorly, cannot push English ones down the dense list), and the question's
    own edition comes first unless another ranks far better. Each retriever keeps its best
    `candidates` per edition, as it would over that edition alone.

    rankings: (weight, rows, scores); editions: each row's edition (a number); lang: the question's;
    method: one of FUSIONS (rrf_k is read by "rrf" only).
    The same sums as fuse() per edition, added in the same order, and the same order among equal
    scores (first seen first), in arrays: the dicts and sorts of fuse() per edition cost ~0.1 ms a
    question. A row belongs to one edition, so its sum can be taken over all editions at once."""
    all_rows, all_shares = [], []
    for weight, rows, scores in rankings:
        order = np.argsort(-scores, kind="stable")
        rows, scores = rows[order], scores[order]
        of = editions[rows]
        rank = np.empty(len(rows), np.int64)
        for edition in np.unique(of):  # the rank within the row's own edition
            mine = of == edition
            rank[mine] = np.arange(np.count_nonzero(mine))
        keep = rank < candidates
        rows, scores, of = rows[keep], scores[keep], of[keep]
        if method == "rrf":
            all_shares.append(weight / (rrf_k + rank[keep] + 1))
        else:
            own = scores[of == lang]
            all_shares.append(weight * scaled_scores(scores, own if len(own) else scores))
        all_rows.append(rows)
    rows, shares = np.concatenate(all_rows), np.concatenate(all_shares)
    if not len(rows):
        return rows, shares
    by_row = np.argsort(rows, kind="stable")  # each row's shares together, in the order of `rankings`
    grouped = rows[by_row]
    starts = np.flatnonzero(np.r_[True, grouped[1:] != grouped[:-1]])
    fused = np.add.reduceat(shares[by_row], starts)  # left to right, as fuse() adds them
    rows, first = grouped[starts], by_row[starts]
    of = editions[rows]
    scaled = np.where(of == lang, fused, fused * factor)
    # Best first; among equal scores the lower edition first, then as fuse() orders one edition's rows
    # (its score before scaling, then first seen): the merge of the editions' lists, one by one.
    order = np.lexsort((first, -fused, of, -scaled))
    return rows[order], scaled[order]


def scaled_scores(scores: np.ndarray, by: np.ndarray) -> np.ndarray:
    """Scores mapped so that the best of `by` is 1 and its last is 0 (all equal: all 1), negatives as 0.

    A cosine and a BM25 sum are on different scales, and BM25's depends on the question's length. `by`
    is the question's own edition's candidates, so its passages rank exactly as they would alone, and
    another edition's are judged on the same scale: a Chinese passage an English question barely
    matches stays low (scaled within its own edition, its best would count as much as the English best).
    """
    scores = scores.astype(np.float64)
    if not len(by):
        return scores
    high, low = float(by.max()), float(by.min())
    if high <= low:
        return np.ones_like(scores)
    return np.maximum((scores - low) / (high - low), 0.0)


def fuse(
    rankings: list[tuple[float, dict[int, float]]],
    rrf_k: int,
    method: str = "scores",
    scale_by: list[list[float]] | None = None,
) -> list[tuple[int, float]]:
    """{row: score} rankings fused as fuse_by_language fuses one edition's, best first. scale_by: for
    each ranking, the scores its scale is taken from (scaled_scores); by default its own."""
    fused: dict[int, float] = {}
    for i, (weight, scores) in enumerate(rankings):
        ranked = sorted(scores, key=scores.get, reverse=True)
        if method == "rrf":
            shares = [weight / (rrf_k + rank + 1) for rank in range(len(ranked))]
        else:
            values = np.array([scores[r] for r in ranked], np.float64)
            by = values if scale_by is None else np.array(scale_by[i], np.float64)
            shares = (weight * scaled_scores(values, by)).tolist()
        for row, share in zip(ranked, shares):
            fused[row] = fused.get(row, 0.0) + share
    return sorted(fused.items(), key=lambda item: item[1], reverse=True)
