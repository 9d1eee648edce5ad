"""Scope without a scope file: only ever an off-topic signal, never a reason to answer."""

from __future__ import annotations

import numpy as np

from index.answer import scope_score


def _unit(*xs: float) -> np.ndarray:
    v = np.array(xs, dtype=np.float32)
    return v / np.linalg.norm(v)


def test_without_scope_file_a_question_closer_to_an_off_topic_kind_than_to_its_passage_scores_below_zero():
    off_topic = np.stack([_unit(1, 0, 0), _unit(0, 1, 0)])
    question = _unit(1, 0.1, 0)  # close to the first off-topic kind (cosine ~0.995)
    assert np.isclose(scope_score(question, None, off_topic, passage_cosine=0.2), 0.2 - float(off_topic[0] @ question))


def test_without_scope_file_a_question_its_passage_matches_better_scores_zero_not_above():
    off_topic = np.stack([_unit(1, 0, 0)])
    question = _unit(0, 0, 1)
    assert scope_score(question, None, off_topic, passage_cosine=0.7) == 0.0


def test_with_scope_file_scope_is_the_difference_of_the_closest_descriptions():
    answers, does_not = np.stack([_unit(0, 0, 1)]), np.stack([_unit(1, 0, 0)])
    question = _unit(0.2, 0, 1)
    expected = float(answers[0] @ question) - float(does_not[0] @ question)
    assert np.isclose(scope_score(question, answers, does_not, passage_cosine=0.0), expected)
