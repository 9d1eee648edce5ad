"""Scope without a scope file: only ever an off-topic signal, never a reason to answer. And scope for
Chinese questions, by words against the scope file's Chinese descriptions."""

from __future__ import annotations

import numpy as np
import pytest

from index.answer import lexical_scope_score, scope_score
from index.search import _lexical_scope_words
from ingest.scope import Scope


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


# --- Chinese questions: the English model cannot embed them, so scope compares words -----------------


def test_lexical_scope_is_the_share_of_question_words_in_scope_minus_out_of_scope():
    question = {"病友", "病友群", "剂量", "多少"}
    assert lexical_scope_score(question, {"病友", "论坛"}, {"剂量", "多少", "副作用"}) == 1 / 4 - 2 / 4
    assert lexical_scope_score(set(), {"病友"}, {"剂量"}) == 0.0
    assert lexical_scope_score(question, set(), set()) == 0.0  # no Chinese descriptions


def test_lexical_scope_counts_a_curated_synonym_of_a_question_word():
    assert lexical_scope_score({"药物"}, {"病友"}, {"吃药"}, {"药物": {"medication", "吃药"}}) == -1.0


def test_scope_words_leave_out_off_scope_words_the_corpus_itself_uses():
    scope = Scope(["a"], ["b"], {"zh": {"answers": ["去哪里找病友群"], "does_not_answer": ["哪家医院最好，剂量多少"]}})
    answers, does_not = _lexical_scope_words(scope.translation("zh"), [{"医院", "病友"}])
    assert "病友" in answers
    assert "剂量" in does_not and "医院" not in does_not


@pytest.fixture(scope="module")
def searcher(default_index, embedder):
    from index import open_searcher

    return open_searcher(default_index, embedder)


def _scope_zh(searcher, question: str) -> float:
    return searcher.confidence_features(question, searcher.search(question, 1).hits[0]).scope_zh


def test_a_chinese_dose_question_is_less_in_scope_than_a_chinese_patient_group_question(searcher):
    dose = _scope_zh(searcher, "放射性碘的剂量一般是多少")
    group = _scope_zh(searcher, "去哪里能找到甲状腺癌的病友群")
    assert dose < 0 < group


def test_an_english_question_gets_no_chinese_scope(searcher):
    assert _scope_zh(searcher, "what dose of levothyroxine should i take") == 0.0


def test_the_built_index_keeps_the_chinese_descriptions_beside_the_english_lists(default_index):
    # Beside, not inside, "scope": a Beacon from before translations builds Scope(**scope) and would
    # refuse an unknown key, so it would call every new index damaged.
    import orjson

    from index.publish import current_dir
    from index.store import EXTRAS, load_version

    extras = orjson.loads((current_dir(default_index) / EXTRAS).read_bytes())
    assert set(extras["scope"]) == {"answers", "does_not_answer"}
    assert load_version(current_dir(default_index)).extras.scope.translation("zh").does_not_answer
