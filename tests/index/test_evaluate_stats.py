"""The paired comparison bench/sites.py reports: per-question reciprocal ranks, scored by the same rule
as MRR@10, and a bootstrap interval of one system's lead over another on the same questions."""

from __future__ import annotations

import pytest

from index.evaluate import Question, paired_bootstrap, reciprocal_ranks, score

QUESTIONS = [
    Question("a", ("p1",)),
    Question("b", ("p2", "p3")),
    Question("off-topic", ()),
    Question("c", ("p4",)),
]


def test_reciprocal_ranks_follow_the_mrr_rule_and_skip_off_topic_questions():
    outcomes = [
        (["p1", "x"], True),
        (["x", "y", "p3"], True),  # any expected page counts: third
        ([], False),
        ([f"x{i}" for i in range(10)] + ["p4"], True),  # eleventh: beyond MRR@10
    ]
    ranks = reciprocal_ranks(QUESTIONS, outcomes)
    assert ranks == [1.0, pytest.approx(1 / 3), 0.0]
    assert sum(ranks) / len(ranks) == pytest.approx(score("s", QUESTIONS, outcomes).mrr10)


def test_a_system_ahead_on_every_question_has_an_interval_above_zero():
    mean, low, high = paired_bootstrap([1.0, 0.5, 1.0, 0.5], [0.5, 0.0, 0.5, 0.0])
    assert (mean, low, high) == (0.5, 0.5, 0.5)


def test_a_lead_on_a_few_questions_of_many_has_an_interval_that_spans_zero():
    a = [1.0] * 36 + [1.0, 1.0, 0.5, 0.5]
    b = [1.0] * 36 + [0.5, 0.5, 1.0, 1.0]  # two questions won, two lost: level on average
    mean, low, high = paired_bootstrap(a, b)
    assert mean == pytest.approx(0.0)
    assert low < 0 < high


def test_the_interval_is_reproducible_and_brackets_the_mean():
    a, b = [1.0, 0.5, 0.33, 1.0, 0.0, 1.0], [0.5, 0.5, 1.0, 1.0, 0.0, 0.25]
    first = paired_bootstrap(a, b)
    assert first == paired_bootstrap(a, b)
    assert first[1] <= first[0] <= first[2]
    assert paired_bootstrap([], []) == (0.0, 0.0, 0.0)
