"""Fusion of the dense and lexical rankings: weighted reciprocal rank fusion, per language edition, and
the weights a site gives none (txtai keeps its fusion in a module of its own too)."""

from __future__ import annotations

import numpy as np

# The fusion weights of a site that gives none. Measured on bench/eval/questions.yaml
# (docs/quality.md): the thyroid guide names its resources in aliases, so exact words are the
# stronger signal; dense breaks ties and carries paraphrases. On Python's documentation, prose
# where BM25 mostly finds pages that share common words, the site file sets lexical_weight = 0.
DENSE_WEIGHT = 1.0
LEXICAL_WEIGHT = 1.5

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
) -> Ranking:
    """Each edition fused on its own, then merged with the other editions' scores times factor.

    Ranks are counted within an edition, so an English question ranks the English passages exactly
    as it would without a translation beside them (Chinese passages, which the English model embeds
    poorly, cannot push English ones down the dense list), and the question's own edition comes
    first unless another ranks far better. Each retriever keeps its best `candidates` per edition, as
    it would over that edition alone.

    rankings: (weight, rows, scores); editions: each row's edition (a number); lang: the question's.
    The same sums as fuse() per edition, added in the same order, and the same order among equal
    scores (first seen first), in arrays: the dicts and sorts of fuse() per edition cost ~0.1 ms a
    question. A row belongs to one edition, so its sum can be taken over all editions at once."""
    all_rows, all_shares = [], []
    for weight, rows, scores in rankings:
        rows = rows[np.argsort(-scores, kind="stable")]
        of = editions[rows]
        rank = np.empty(len(rows), np.int64)
        for edition in np.unique(of):  # the rank within the row's own edition
            mine = of == edition
            rank[mine] = np.arange(np.count_nonzero(mine))
        keep = rank < candidates
        all_rows.append(rows[keep])
        all_shares.append(weight / (rrf_k + rank[keep] + 1))
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


def fuse(rankings: list[tuple[float, dict[int, float]]], rrf_k: int) -> list[tuple[int, float]]:
    """Weighted reciprocal rank fusion of several {row: score} rankings, best first."""
    fused: dict[int, float] = {}
    for weight, scores in rankings:
        for rank, row in enumerate(sorted(scores, key=scores.get, reverse=True)):
            fused[row] = fused.get(row, 0.0) + weight / (rrf_k + rank + 1)
    return sorted(fused.items(), key=lambda item: item[1], reverse=True)
