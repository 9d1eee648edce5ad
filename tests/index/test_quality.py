"""Answer quality on the shipped corpus with the real model: the eval thresholds CI holds us to,
and the kinds of question readers type (Chinese, typos, synonyms, off-topic)."""

from __future__ import annotations

import pytest

from tests.helpers import ROOT

# Measured on bench/eval/questions.yaml (docs/quality.md): hybrid hit@1 0.881, hit@3 0.988,
# MRR@10 0.931, no-answer precision 0.722, recall 0.929. Set a little lower so a harmless
# change of a question or two does not fail CI, while a real regression does.
MIN_HIT1 = 0.84
MIN_HIT3 = 0.94
MIN_MRR = 0.89
MIN_NO_ANSWER_PRECISION = 0.6
MIN_NO_ANSWER_RECALL = 0.85


@pytest.fixture(scope="module")
def searcher(default_index, embedder):
    from index import open_searcher

    return open_searcher(default_index, embedder)


@pytest.fixture(scope="module")
def tuning_scores(searcher):
    from index.evaluate import evaluate_modes, load_questions

    questions = load_questions(ROOT / "bench" / "eval" / "questions.yaml")
    assert len(questions) >= 60
    return {s.mode: s for s in evaluate_modes(searcher, questions)}


def test_hybrid_meets_the_measured_thresholds(tuning_scores):
    hybrid = tuning_scores["hybrid"]
    assert hybrid.hit1 >= MIN_HIT1, hybrid.misses
    assert hybrid.hit3 >= MIN_HIT3, hybrid.misses
    assert hybrid.mrr10 >= MIN_MRR, hybrid.misses
    assert hybrid.no_answer_precision >= MIN_NO_ANSWER_PRECISION, hybrid.misses
    assert hybrid.no_answer_recall >= MIN_NO_ANSWER_RECALL, hybrid.misses


@pytest.mark.parametrize("other", ["dense", "lexical"])
def test_hybrid_beats_each_retriever_alone(tuning_scores, other):
    hybrid, alone = tuning_scores["hybrid"], tuning_scores[other]
    assert hybrid.hit1 > alone.hit1
    assert hybrid.mrr10 > alone.mrr10


def first_document(searcher, question: str) -> str:
    """By twin key: a Chinese question is answered from the Chinese edition (online/haodf.zh)."""
    from index.language import twin_key

    return twin_key(searcher.search(question, 5).hits[0].chunk.doc_id)


@pytest.mark.parametrize(
    "question, expected",
    [
        ("小红书", "online/xiaohongshu"),
        ("好大夫在线", "online/haodf"),
        ("觅健", "online/mi-jian"),
        ("好大夫在线的医生有病友群吗", "online/haodf"),
        ("微博超话", "online/weibo"),
    ],
)
def test_chinese_questions_find_the_resource(searcher, question, expected):
    assert first_document(searcher, question) == expected


@pytest.mark.parametrize(
    "question, named",
    [
        ("I-131 碘131", ("I-131", "碘131")),
        ("碘131", ("碘131",)),
        ("放射性碘 日记", ("碘131",)),
        ("I-131 diaries", ("I-131",)),
    ],
)
def test_i131_in_either_script_finds_the_treatment_diaries(searcher, question, named):
    result = searcher.search(question, 5)
    assert first_document(searcher, question) in {"online/mi-jian", "online/xiaohongshu"}
    # The answer is in the question's language (the Chinese edition names the treatment 碘131); a
    # question in both scripts may be answered from either edition.
    assert result.answer is not None and any(n in result.answer.text for n in named)


@pytest.mark.parametrize(
    "question, expected",
    [
        ("thyriod cancer patient gruop wechat", "online/wechat-groups"),
        ("britsh thyriod foundation", "international/british-thyroid-foundation"),
        ("macmilan comunity", "international/macmillan"),
    ],
)
def test_typos_are_corrected_to_corpus_words(searcher, question, expected):
    result = searcher.search(question, 5)
    assert result.hits[0].chunk.doc_id == expected
    assert result.corrected and "thyriod" not in result.corrected


def test_correct_words_are_never_altered(searcher):
    assert searcher.search("thyroid cancer patient group", 3).corrected is None
    # 'weather' is not in the corpus but is an English word: left as typed, not bent to 'whether'.
    assert searcher.spelling.correct("weather tomorrow") == "weather tomorrow"


@pytest.mark.parametrize("question", ["RAI", "RAI experiences from other patients", "radioiodine stories"])
def test_synonyms_of_radioactive_iodine_find_the_i131_passages(searcher, question):
    docs = [h.chunk.doc_id for h in searcher.search(question, 5).hits[:3]]
    assert {"online/mi-jian", "online/xiaohongshu"} & set(docs[:1]), docs


@pytest.mark.parametrize(
    "question",
    [
        "will it rain in shanghai tomorrow",
        "easy banana bread recipe",
        "nvidia stock price",
        "明天北京天气怎么样",
        "how do i change a bike tyre",
    ],
)
def test_off_topic_questions_get_no_answer_and_weak_results(searcher, question):
    result = searcher.search(question, 5)
    assert result.answer is None
    assert all(h.weak for h in result.hits)


def test_answer_is_the_best_sentences_of_the_best_passage(searcher):
    result = searcher.search("where can I talk to people about I-131", 5)
    best = result.hits[result.answer.result]
    assert result.answer.text in best.chunk.text
    assert "I-131" in result.answer.text
    assert len(result.answer.text) < len(best.chunk.text)
    # The answer sentence begins "There, ..."; the sentence naming the place comes with it.
    assert not result.answer.text.startswith("There")


def test_an_answer_sentence_that_points_back_brings_the_one_before():
    import numpy as np

    from index.answer import pick_sentences

    sentences = [
        "Mi Jian has a lively thyroid cancer section.",
        "There, many patients share their surgery stories and their I-131 (radioactive iodine) therapy diaries.",
        "Search for it in your phone's app store, and look for the thyroid section.",
    ]
    vectors = np.eye(3, dtype=np.float32)
    # The second sentence matches best and the others poorly: alone it would be the answer.
    query = np.array([0.1, 1.0, 0.1], dtype=np.float32)
    assert pick_sentences(sentences, vectors, query, [0, 1, 0]) == " ".join(sentences[:2])
    sentences[1] = "On Mi Jian, many patients share their surgery stories and their I-131 (radioactive iodine) diaries."
    assert pick_sentences(sentences, vectors, query, [0, 1, 0]) == sentences[1]


def test_results_have_no_near_duplicates_and_few_sections_per_document(searcher):
    for question in ["wechat patient groups", "I-131 diary", "patient group", "小红书"]:
        hits = searcher.search(question, 10).hits
        docs = [h.chunk.doc_id for h in hits]
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
        assert len({h.chunk.id for h in hits}) == len(hits)
        assert all(docs.count(d) <= searcher.settings.max_per_document for d in docs)
        vectors = [searcher.stored.vector(searcher._rows[h.chunk.id]) for h in hits]
        for i in range(len(vectors)):
            for j in range(i):
                assert float(vectors[i] @ vectors[j]) <= searcher.settings.duplicate_cosine
