"""Retrieval quality on a question set: hit@1, hit@3, MRR@10 and no-answer precision/recall per mode."""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import yaml

from ingest.errors import BeaconError

from .language import twin_key
from .search import Mode, Searcher

MODES: tuple[Mode, ...] = ("dense", "lexical", "hybrid")
DEFAULT_QUESTION_FILES = (
    Path("bench/eval/questions.yaml"),
    Path("bench/eval/holdout.yaml"),
    Path("bench/eval/blind.yaml"),
    Path("bench/eval/describe-holdout.yaml"),
    Path("bench/eval/zh.yaml"),
    Path("bench/eval/zh-holdout.yaml"),
)


@dataclass(frozen=True)
class Question:
    q: str
    expect: tuple[str, ...]  # acceptable documents; empty when the corpus has no answer
    kind: str = ""


@dataclass(frozen=True)
class Scores:
    mode: str
    questions: int
    answerable: int
    hit1: float  # share of answerable questions whose first result is from an expected document
    hit3: float
    mrr10: float  # mean of 1/rank of the first expected document within the first ten documents
    no_answer_precision: float  # of the questions given no answer, the share that truly have none
    no_answer_recall: float  # of the questions that have no answer, the share given none
    misses: tuple[str, ...] = ()  # answerable questions not hit at 1, or no-answer ones answered
    # Answerable questions left out because none of their expected documents is in the index (a
    # slice of a site, e.g. only its FAQ): counting them as misses would measure the slice, not search.
    skipped: int = 0
    # Of the answers given to answerable questions, the share taken from a passage in the
    # question's language (the Chinese edition for a Chinese question).
    answer_in_question_language: float = 1.0


def load_questions(path: Path) -> list[Question]:
    try:
        items = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or []
    except (OSError, yaml.YAMLError) as e:
        raise BeaconError(
            f"cannot read question file {path}: {e}", "give a YAML list of {q, expect: [doc ids], kind} items"
        ) from e
    if not isinstance(items, list) or not all(isinstance(i, dict) and "q" in i for i in items):
        raise BeaconError(f"{path} is not a list of questions", "each item needs q: and expect: [doc ids]")
    return [Question(str(i["q"]), tuple(i.get("expect") or ()), str(i.get("kind", ""))) for i in items]


def _doc_ranking(result) -> list[str]:
    """Documents in the order their best passage appears, by twin key: a question expecting
    online/haodf is answered by either edition (online/haodf or online/haodf.zh)."""
    seen: list[str] = []
    for hit in result.hits:
        key = twin_key(hit.chunk.doc_id)
        if key not in seen:
            seen.append(key)
    return seen


def in_index(searcher: Searcher, questions: list[Question]) -> tuple[list[Question], int]:
    """The questions this index can be asked (no-answer ones, and those with an expected document
    present), and how many were left out."""
    docs = {twin_key(c.doc_id) for c in searcher.stored.chunks}
    kept = [q for q in questions if not q.expect or docs.intersection(q.expect)]
    return kept, len(questions) - len(kept)


def evaluate(searcher: Searcher, questions: list[Question], mode: Mode, k: int = 10) -> Scores:
    questions, skipped = in_index(searcher, questions)
    return dataclasses.replace(score(mode, questions, outcomes(searcher, questions, mode, k)), skipped=skipped)


def outcomes(searcher: Searcher, questions: list[Question], mode: Mode, k: int = 10) -> list[tuple]:
    """Each question's outcome as score() reads it: (ranked documents, answered?, answered from a
    passage in the question's language?)."""
    found = []
    for question in questions:
        result = searcher.search(question.q, k, mode=mode)
        answer = result.answer
        found.append(
            (
                _doc_ranking(result),
                answer is not None,
                answer is not None and result.hits[answer.result].lang == result.lang,
            )
        )
    return found


def score(label: str, questions: list[Question], outcomes: list[tuple]) -> Scores:
    """Scores from each question's ranked documents and whether an answer was given, so a system
    other than Beacon (bench/pagefind_peer.py) is scored by exactly the same rules."""
    hit1 = hit3 = rr = 0.0
    answerable = no_answer_given = no_answer_right = no_answer_total = answers = same_language = 0
    misses = []
    for question, outcome in zip(questions, outcomes, strict=True):
        # (ranked documents, answered?, answered from a passage in the question's language?); a peer
        # without languages (Pagefind) gives the first two.
        ranking, answered = outcome[0], outcome[1]
        in_language = outcome[2] if len(outcome) > 2 else True
        if not question.expect:
            no_answer_total += 1
            if not answered:
                no_answer_given += 1
                no_answer_right += 1
            else:
                misses.append(f"answered: {question.q}")
            continue
        answerable += 1
        if not answered:
            no_answer_given += 1
        else:
            answers += 1
            same_language += in_language
        docs = ranking[:10]
        rank = first_expected(question, ranking)
        if rank == 1:
            hit1 += 1
        else:
            misses.append(f"rank {rank}: {question.q} -> {docs[:3]}")
        hit3 += rank is not None and rank <= 3
        rr += 1 / rank if rank else 0.0
    n = max(answerable, 1)
    return Scores(
        mode=label,
        questions=len(questions),
        answerable=answerable,
        hit1=hit1 / n,
        hit3=hit3 / n,
        mrr10=rr / n,
        no_answer_precision=no_answer_right / no_answer_given if no_answer_given else 1.0,
        no_answer_recall=no_answer_right / no_answer_total if no_answer_total else 1.0,
        misses=tuple(misses),
        answer_in_question_language=same_language / answers if answers else 1.0,
    )


def first_expected(question: Question, ranking: list[str]) -> int | None:
    """The rank (from 1) of the first expected document within the first ten, or None."""
    return next((i + 1 for i, d in enumerate(ranking[:10]) if d in question.expect), None)


def reciprocal_ranks(questions: list[Question], outcomes: list[tuple]) -> list[float]:
    """1/rank of each answerable question's first expected document (0 beyond ten), in order: the
    terms MRR@10 averages, for paired comparisons of two systems on the same questions."""
    ranks = [first_expected(q, o[0]) for q, o in zip(questions, outcomes, strict=True) if q.expect]
    return [1 / r if r else 0.0 for r in ranks]


def paired_bootstrap(
    a: list[float], b: list[float], resamples: int = 10_000, seed: int = 0
) -> tuple[float, float, float]:
    """Mean of a - b over paired questions and its 95% percentile bootstrap interval (the questions
    resampled with replacement). With 20-odd questions a set's MRR@10 moves 0.02-0.05 on one question,
    so a lead is worth reporting only with the interval it comes with."""
    diff = np.asarray(a, np.float64) - np.asarray(b, np.float64)
    if not len(diff):
        return 0.0, 0.0, 0.0
    rng = np.random.default_rng(seed)
    means = diff[rng.integers(0, len(diff), (resamples, len(diff)))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return float(diff.mean()), float(low), float(high)


def evaluate_modes(searcher: Searcher, questions: list[Question], modes=MODES) -> list[Scores]:
    return [evaluate(searcher, questions, mode) for mode in modes]


def format_table(title: str, scores: list[Scores]) -> str:
    head = f"{title} ({scores[0].questions} questions, {scores[0].answerable} answerable)"
    if scores[0].skipped:
        head += f"; {scores[0].skipped} skipped: no expected page in this index"
    rows = [head, f"{'mode':<8} {'hit@1':>6} {'hit@3':>6} {'MRR@10':>7} {'noans P':>8} {'noans R':>8} {'ans lang':>8}"]
    for s in scores:
        rows.append(
            f"{s.mode:<8} {s.hit1:>6.3f} {s.hit3:>6.3f} {s.mrr10:>7.3f} "
            f"{s.no_answer_precision:>8.3f} {s.no_answer_recall:>8.3f} {s.answer_in_question_language:>8.3f}"
        )
    return "\n".join(rows)


def as_dict(scores: Scores, with_misses: bool = False) -> dict:
    d = asdict(scores)
    if not d["skipped"]:  # the JSON of a full corpus stays as it was
        d.pop("skipped")
    if not with_misses:
        d.pop("misses")
    else:
        d["misses"] = list(d["misses"])
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in d.items()}
