"""Refit the answer-confidence model in index/answer.py from the tuning questions.

    PYTHONPATH=. python bench/fit_confidence.py [--index .beacon/index]

Features are those of the top hybrid hit (index.answer.Features); the label is 1 for a question
the corpus answers and 0 for one it does not. Uses bench/eval/questions.yaml, bench/eval/zh.yaml and
bench/eval/calibration.yaml, never the held-out sets. Prints the constants to paste into answer.py.
On an index without a scope file, the scope feature is the generic off-topic margin
(index.answer.scope_score); the constants were not refitted for it (docs/quality.md, section 8).

Then the shown confidence (answer.shown_confidence): a second logistic model, over every (question,
passage) pair of the top 5, of whether that passage's document is one the question expects. It is
fit on the same tuning questions, and its reliability table (per bucket of shown confidence, the
share of passages really relevant) is printed for the held-out sets, for docs/quality.md.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from index import (  # noqa: E402
    Embedder,
    answer,  # noqa: E402
    open_searcher,
)
from index.evaluate import load_questions  # noqa: E402
from index.language import twin_key  # noqa: E402

HERE = Path(__file__).resolve().parent
FILES = [HERE / "eval" / "questions.yaml", HERE / "eval" / "zh.yaml", HERE / "eval" / "calibration.yaml"]
HELD_OUT = [HERE / "eval" / name for name in ("holdout.yaml", "blind.yaml", "describe-holdout.yaml", "zh-holdout.yaml")]
BUCKETS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)


def top_features(searcher, question: str) -> answer.Features:
    return searcher.confidence_features(question, searcher.search(question, 1).hits[0])


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1e-2, steps: int = 50) -> np.ndarray:
    """Newton-Raphson (IRLS) for L2-regularised logistic regression; returns [intercept, *coef]."""
    x = np.hstack([np.ones((len(x), 1)), x])
    w = np.zeros(x.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-x @ w))
        grad = x.T @ (p - y) + l2 * np.r_[0, w[1:]]
        hess = (x * (p * (1 - p))[:, None]).T @ x + l2 * np.diag(np.r_[0, np.ones(len(w) - 1)])
        w -= np.linalg.solve(hess, grad)
    return w


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--index", type=Path, default=Path(".beacon/index"))
    args = parser.parse_args()
    searcher = open_searcher(args.index, Embedder())
    questions = [q for f in FILES for q in load_questions(f)]
    x = np.array([top_features(searcher, q.q).as_list() for q in questions])
    y = np.array([1.0 if q.expect else 0.0 for q in questions])
    w = fit_logistic(x, y)
    p = 1 / (1 + np.exp(-(np.hstack([np.ones((len(x), 1)), x]) @ w)))
    names = ["INTERCEPT", "COEF_COSINE", "COEF_COVERAGE", "COEF_KNOWN", "COEF_CJK", "COEF_SCOPE", "COEF_SCOPE_ZH"]
    print("\n".join(f"{n} = {v:.3f}" for n, v in zip(names, w)))
    print("threshold  answerable-refused  unanswerable-answered")
    for t in (0.2, 0.3, 0.4, 0.5, 0.6, 0.7):
        print(f"{t:9.2f}  {int(((p < t) & (y == 1)).sum()):18d}  {int(((p >= t) & (y == 0)).sum()):21d}")
    for q, prob, label in sorted(zip(questions, p, y), key=lambda t: t[1]):
        if (label == 1 and prob < 0.6) or (label == 0 and prob > 0.3):
            print(f"  {prob:.2f} {'answerable  ' if label else 'unanswerable'} {q.q}")
    fit_shown(searcher, questions)


def passage_rows(searcher, questions, k: int = 5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shown-confidence features of every passage in the top k, its label, and its current shown value."""
    x, y, shown = [], [], []
    for q in questions:
        result = searcher.search(q.q, k)
        hits = result.hits
        for rank, hit in enumerate(hits):
            x.append(answer.shown_features(hit.answer_score, rank, hits[0].answer_score))
            y.append(1.0 if twin_key(hit.chunk.doc_id) in q.expect else 0.0)
            shown.append(hit.confidence)
    return np.array(x), np.array(y), np.array(shown)


def reliability(shown: np.ndarray, y: np.ndarray) -> str:
    rows = ["| shown confidence | passages | really relevant |", "|---|---|---|"]
    for lo, hi in zip(BUCKETS, BUCKETS[1:]):
        inside = (shown >= lo) & ((shown < hi) if hi < 1 else (shown <= hi))
        share = f"{y[inside].mean():.2f}" if inside.any() else "-"
        rows.append(f"| {lo:.1f} to {hi:.1f} | {int(inside.sum())} | {share} |")
    return "\n".join(rows)


def fit_shown(searcher, questions) -> None:
    x, y, _ = passage_rows(searcher, questions)
    w = fit_logistic(x, y)
    names = ["SHOWN_INTERCEPT", "SHOWN_COEF_LOGIT", "SHOWN_COEF_RANK", "SHOWN_COEF_BEHIND", "SHOWN_COEF_ANSWERED"]
    print("\n" + "\n".join(f"{n} = {v:.3f}" for n, v in zip(names, w)))
    for path in HELD_OUT:
        _, y_held, shown = passage_rows(searcher, load_questions(path))
        print(f"\n{path.name}: reliability of the shown confidence (constants now in answer.py)")
        print(reliability(shown, y_held))


if __name__ == "__main__":
    main()
