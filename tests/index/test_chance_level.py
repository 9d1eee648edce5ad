"""Without a scope file, a question whose best passage is no closer than everyday topics get on
this site by chance is treated as off-topic (answer.chance_level, answer.scope_score)."""

from __future__ import annotations

import numpy as np
import pytest

from index.answer import GENERIC_OFF_TOPIC, chance_level, everyday_topics, scope_score


def _unit(*xs: float) -> np.ndarray:
    v = np.array(xs, dtype=np.float32)
    return v / np.linalg.norm(v)


def test_a_passage_no_closer_than_chance_scores_below_zero_by_the_difference():
    off_topic = np.stack([_unit(1, 0, 0)])
    question = _unit(0, 0, 1)  # resembles no off-topic kind: only the chance level can say it is off-topic
    assert scope_score(question, None, off_topic, passage_cosine=0.27, chance=0.39) == pytest.approx(-0.12)
    assert scope_score(question, None, off_topic, passage_cosine=0.45, chance=0.39) == 0.0


def test_a_site_about_a_few_everyday_topics_keeps_the_chance_level_the_others_give():
    # A health site: its passages match health, illness, medicines and doses closely.
    others = [0.2] * (len(everyday_topics()) - 4)
    assert chance_level(others + [0.6] * 4) == pytest.approx(0.2)


def test_everyday_topics_are_the_kinds_lists_one_by_one():
    topics = everyday_topics()
    assert {"the weather forecast", "recipes", "geography", "another company's software"} <= set(topics)
    assert all(t and t == t.strip() and t not in ("and", "or") for t in topics)
    assert len(topics) == len(set(topics)) > len(GENERIC_OFF_TOPIC)
