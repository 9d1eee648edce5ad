"""Unit tests for service's pure functions: highlighting, question cleaning, the rate-limit bucket."""

from __future__ import annotations

import pytest

from service.highlight import highlight, highlight_answer, query_terms
from service.limits import TokenBucket
from service.query import QueryError, clean_query

# --- highlight -------------------------------------------------------------------------------------------


def test_highlight_marks_query_words_and_their_longer_forms():
    out = str(highlight("Patients share surgery stories.", "patient story"))
    assert "<mark>Patients</mark>" in out
    assert "stories" in out and "<mark>stor" not in out  # 'story' is not a prefix of 'stories'


def test_highlight_escapes_corpus_and_query_html():
    out = str(highlight("<b>bold</b> & <script>x</script>", "<script> bold"))
    assert "<script" not in out and "<b>" not in out
    assert "&lt;<mark>script</mark>&gt;" in out and "&lt;b&gt;<mark>bold</mark>" in out and "&amp;" in out


def test_highlight_skips_stop_words():
    assert "<mark>" not in str(highlight("where is the group", "where is the"))


def test_highlight_marks_cjk_pairs_inside_longer_runs():
    assert "<mark>病友</mark>" in str(highlight("加入病友群", "病友"))


def test_query_terms_longest_first():
    terms = query_terms("I-131 diary 小红书")
    assert terms == sorted(terms, key=len, reverse=True)
    assert "i-131" in terms and "小红" in terms and "红书" in terms


def test_highlight_answer_wraps_the_answer_even_across_line_breaks():
    text = "Intro line.\nMi Jian has a thyroid section.\nOther line."
    out = str(highlight_answer(text, "mi jian", "Mi Jian has a thyroid section."))
    assert '<strong class="answer-span">' in out
    assert out.index("answer-span") < out.index("thyroid") < out.index("</strong>")


def test_highlight_answer_without_a_match_is_plain_highlight():
    assert highlight_answer("abc def", "def", "not there") == highlight("abc def", "def")


# --- clean_query -----------------------------------------------------------------------------------------


def test_clean_query_normalises_full_width_and_spaces():
    assert clean_query("  Ｉ－１３１ \t diary\n", 512) == "I-131 diary"


def test_clean_query_drops_control_and_zero_width_characters():
    assert clean_query("i\u200b131\x00 group", 512) == "i 131 group"


@pytest.mark.parametrize("raw", [None, "", "   ", "\x00\x01"])
def test_clean_query_refuses_an_empty_question_with_a_hint(raw):
    with pytest.raises(QueryError) as e:
        clean_query(raw, 512)
    assert "empty" in e.value.message and e.value.hint


def test_clean_query_refuses_a_long_question_saying_the_limit():
    with pytest.raises(QueryError, match="limit is 20"):
        clean_query("x" * 21, 20)


def test_clean_query_refuses_undecodable_bytes():
    with pytest.raises(QueryError, match="UTF-8"):
        clean_query("abc\ufffd", 512)


# --- TokenBucket -----------------------------------------------------------------------------------------


def test_token_bucket_allows_the_burst_then_says_how_long_to_wait():
    bucket = TokenBucket(per_minute=60, burst=3)
    assert [bucket.take("a", 0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = bucket.take("a", 0.0)
    assert wait == pytest.approx(1.0)  # one token a second
    assert bucket.take("a", 1.0) == 0.0


def test_token_bucket_keeps_clients_apart():
    bucket = TokenBucket(per_minute=60, burst=1)
    assert bucket.take("a", 0.0) == 0.0
    assert bucket.take("a", 0.0) > 0
    assert bucket.take("b", 0.0) == 0.0


def test_token_bucket_never_holds_more_than_the_burst():
    bucket = TokenBucket(per_minute=60, burst=2)
    bucket.take("a", 0.0)
    allowed = sum(bucket.take("a", 3600.0) == 0.0 for _ in range(5))
    assert allowed == 2


def test_token_bucket_memory_stays_bounded_under_a_spray_of_clients():
    bucket = TokenBucket(per_minute=60, burst=5, max_clients=100)
    for i in range(1000):
        bucket.take(f"10.0.{i // 256}.{i % 256}", float(i))
    assert len(bucket.buckets) <= 100
