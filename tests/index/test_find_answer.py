"""search.find_answer places an answer in its passage exactly where ingest.text.find_in_passage (the
one rule, shared with the page's highlighting) does, without a regular expression per answer."""

from __future__ import annotations

import random

import pytest

from index.search import find_answer
from ingest.text import find_in_passage, split_sentences

CASES = [
    ("a b", "x a\\nb a b"),
    ("a b", "a  \\t b"),
    ("a b", "ab"),  # \\s* allows no space: Chinese sentences follow each other without one
    ("aa", "aaa"),
    ("aa b", "aaa b"),
    ("a.b (c)", "z a.b\\n\\n(c) d"),
    ("", "anything"),
    ("   ", "anything"),
    ("missing", "not here"),
    ("好 大夫", "在好大夫在线"),
    ("x\\u3000y", "x\\u3000\\u3000y"),
    ("a a", "a a a"),
    ("a b", "a a b"),
    ("ab b", "ab ab b"),
]


@pytest.mark.parametrize(
    "answer, passage", [(a.encode().decode("unicode_escape"), p.encode().decode("unicode_escape")) for a, p in CASES]
)
def test_the_same_span_as_find_in_passage(answer, passage):
    assert find_answer(answer, passage) == find_in_passage(answer, passage)


def test_the_same_span_for_answers_cut_from_passages_and_for_near_misses():
    rng = random.Random(7)
    words = ["a", "b", "ab", "the", "thyroid", "。", "好", "大夫", "x.y", "(", ")", "\\\\"]
    for _ in range(3000):
        passage = "".join(rng.choice(words) + rng.choice(["", " ", "\n", "  ", "\t", "\u3000"]) for _ in range(20))
        sentences = split_sentences(passage) or [passage]
        i = rng.randrange(len(sentences))
        answer = " ".join(sentences[i : i + rng.randint(1, 2)])
        if rng.random() < 0.3:  # a near miss: one word changed
            parts = answer.split() or ["a"]
            parts[rng.randrange(len(parts))] = rng.choice(words)
            answer = " ".join(parts)
        assert find_answer(answer, passage) == find_in_passage(answer, passage), (answer, passage)
