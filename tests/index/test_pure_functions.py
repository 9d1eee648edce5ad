"""Unit tests for index's pure functions: no model, no index, milliseconds each."""

from __future__ import annotations

import numpy as np
import pytest

from index.cache import ChunkCache, EmbeddingCache, text_key
from index.fusion import fuse
from index.lexical import tokenize
from index.typos import SpellFixer

# --- fuse: the two rankings' normalised scores added (or reciprocal ranks) -------------------------


@pytest.mark.parametrize("method", ["scores", "rrf"])
def test_fuse_ranks_a_row_both_rankings_like_above_a_row_only_one_likes(method):
    dense = {1: 0.9, 2: 0.8, 3: 0.1}
    lexical = {2: 12.0, 4: 11.0, 1: 1.0}
    order = [row for row, _ in fuse([(1.0, dense), (1.0, lexical)], rrf_k=60, method=method)]
    assert order[0] == 2  # near the top of both beats the top of one and the bottom of the other
    assert set(order) == {1, 2, 3, 4}


@pytest.mark.parametrize("method", ["scores", "rrf"])
def test_fuse_does_not_let_bm25s_scale_swamp_cosines(method):
    # BM25 scores in the hundreds must not swamp cosine scores below 1.
    a = fuse([(1.0, {1: 0.9, 2: 0.1}), (1.0, {2: 500.0, 1: 400.0})], rrf_k=60, method=method)
    b = fuse([(1.0, {1: 0.9, 2: 0.1}), (1.0, {2: 2.0, 1: 1.0})], rrf_k=60, method=method)
    assert a == b


@pytest.mark.parametrize("method", ["scores", "rrf"])
def test_fuse_weight_decides_between_disagreeing_rankings(method):
    dense, lexical = {1: 1.0, 2: 0.5}, {2: 1.0, 1: 0.5}
    assert fuse([(1.0, dense), (1.5, lexical)], rrf_k=60, method=method)[0][0] == 2
    assert fuse([(1.5, dense), (1.0, lexical)], rrf_k=60, method=method)[0][0] == 1


def test_score_fusion_adds_each_rankings_min_max_normalised_scores_times_its_weight():
    dense = {7: 0.8, 8: 0.6, 9: 0.4}  # normalised: 1, 0.5, 0
    lexical = {8: 30.0, 7: 10.0}  # 1, 0
    fused = dict(fuse([(1.0, dense), (2.0, lexical)], rrf_k=60))
    assert fused == pytest.approx({7: 1.0, 8: 0.5 + 2.0, 9: 0.0})


def test_score_fusion_counts_a_clear_winner_more_than_a_near_tie():
    # Reciprocal ranks see the same order in both dense rankings; scores see how far ahead row 1 is.
    lexical = {2: 10.0, 1: 6.0, 3: 0.0}
    clear, close = {1: 0.9, 2: 0.3, 3: 0.2}, {1: 0.9, 2: 0.89, 3: 0.2}
    assert fuse([(1.0, clear), (1.0, lexical)], rrf_k=60)[0][0] == 1
    assert fuse([(1.0, close), (1.0, lexical)], rrf_k=60)[0][0] == 2
    rrf = [fuse([(1.0, d), (1.0, lexical)], rrf_k=60, method="rrf")[0][0] for d in (clear, close)]
    assert rrf[0] == rrf[1]


def test_fuse_score_is_the_sum_of_weighted_reciprocal_ranks():
    fused = dict(fuse([(2.0, {7: 1.0}), (1.0, {8: 3.0, 7: 1.0})], rrf_k=10, method="rrf"))
    assert fused[7] == pytest.approx(2.0 / 11 + 1.0 / 12)
    assert fused[8] == pytest.approx(1.0 / 11)


@pytest.mark.parametrize("method", ["scores", "rrf"])
def test_fuse_of_nothing_is_empty(method):
    assert fuse([], rrf_k=60, method=method) == []
    assert fuse([(1.0, {})], rrf_k=60, method=method) == []


# --- tokenize: what BM25 sees ------------------------------------------------------------------------


def test_tokenize_stems_and_drops_function_words():
    tokens = tokenize("Where can I find support groups for patients?")
    assert "where" not in tokens and "can" not in tokens and "i" not in tokens
    assert "group" in tokens and "patient" in tokens and "support" in tokens


def test_tokenize_makes_cjk_bigrams():
    assert tokenize("甲状腺癌", segmenter="bigram") == ["甲状", "状腺", "腺癌"]
    assert tokenize("癌", segmenter="bigram") == ["癌"]


def test_tokenize_adds_jieba_words_to_the_bigrams_by_default():
    tokens = tokenize("甲状腺癌")
    assert "甲状腺" in tokens
    assert {"甲状", "状腺", "腺癌"} <= set(tokens)


def test_tokenize_reads_traditional_characters_as_simplified():
    assert tokenize("甲狀腺癌") == tokenize("甲状腺癌")


def test_tokenize_hyphenated_terms_match_their_joined_and_split_forms():
    tokens = tokenize("I-131 therapy")
    assert "i131" in tokens and "131" in tokens


def test_tokenize_folds_full_width_characters():
    assert tokenize("Ｉ－１３１") == tokenize("I-131")


def test_tokenize_mixed_script_keeps_both():
    tokens = tokenize("I-131 病友群", segmenter="bigram")
    assert "i131" in tokens and "病友" in tokens and "友群" in tokens


# --- SpellFixer: corrections against the corpus's own words --------------------------------------------


@pytest.fixture(scope="module")
def fixer():
    return SpellFixer(["Xiaohongshu diaries about radioactive iodine", "thyroid cancer survivors network"])


def test_spelling_fixes_a_misspelt_corpus_word(fixer):
    assert fixer.correct("xiaohongsu diaries") == "xiaohongshu diaries"
    assert fixer.correct("thyriod") == "thyroid"


def test_spelling_leaves_known_and_ordinary_english_words_alone(fixer):
    assert fixer.correct("where can I talk to people") == "where can I talk to people"
    assert fixer.correct("survivors") == "survivors"


def test_spelling_leaves_short_words_and_non_latin_text_alone(fixer):
    assert fixer.correct("thy") == "thy"
    assert fixer.correct("小红书 日记") == "小红书 日记"


# --- EmbeddingCache: rebuilds embed only what changed ----------------------------------------------------


def test_embedding_cache_round_trips_and_keeps_only_what_is_in_use(tmp_path):
    cache = EmbeddingCache(tmp_path, "ab" * 32, dimension=3, max_tokens=256)
    kept, dropped = text_key("kept"), text_key("dropped")
    cache.put(kept, np.array([1, 2, 3], np.float32))
    cache.put(dropped, np.array([4, 5, 6], np.float32))
    cache.keep_only([kept])
    cache.close()
    again = EmbeddingCache(tmp_path, "ab" * 32, dimension=3, max_tokens=256)
    assert np.array_equal(again.get(kept), [1, 2, 3])
    assert again.get(dropped) is None
    assert np.array_equal(again.vectors([kept, kept]), [[1, 2, 3], [1, 2, 3]])
    with pytest.raises(KeyError):
        again.vectors([dropped])


def test_embedding_cache_keeps_what_was_committed_when_the_build_dies_before_the_end(tmp_path):
    cache = EmbeddingCache(tmp_path, "ab" * 32, dimension=3)
    cache.put("checkpointed", np.ones(3, np.float32))
    cache.commit()
    cache.put("after the checkpoint", np.ones(3, np.float32))
    cache._db.rollback()  # what SQLite does with an uncommitted transaction when the process is killed
    again = EmbeddingCache(tmp_path, "ab" * 32, dimension=3)
    assert again.get("checkpointed") is not None
    assert again.get("after the checkpoint") is None


def test_embedding_cache_is_per_model_and_token_limit(tmp_path):
    cache = EmbeddingCache(tmp_path, "ab" * 32, dimension=3, max_tokens=256)
    cache.put("k", np.ones(3, np.float32))
    cache.close()
    assert EmbeddingCache(tmp_path, "cd" * 32, dimension=3, max_tokens=256).get("k") is None
    assert EmbeddingCache(tmp_path, "ab" * 32, dimension=3, max_tokens=128).get("k") is None


def test_a_damaged_embedding_cache_starts_empty(tmp_path):
    cache = EmbeddingCache(tmp_path, "ab" * 32, dimension=3)
    cache.close()
    cache.path.write_bytes(b"not a database" * 100)
    again = EmbeddingCache(tmp_path, "ab" * 32, dimension=3)
    assert again.get("anything") is None
    again.put("k", np.ones(3, np.float32))  # and it works again
    assert again.get("k") is not None


def test_a_cached_vector_of_the_wrong_size_counts_as_not_cached(tmp_path):
    cache = EmbeddingCache(tmp_path, "ab" * 32, dimension=3)
    cache.put("short", np.ones(2, np.float32))  # as a damaged or foreign entry would be
    cache.put("good", np.ones(3, np.float32))
    assert not cache.has("short") and cache.get("short") is None  # so the build embeds it again
    assert cache.has("good")


def test_temp_files_an_earlier_version_left_mid_save_are_removed_unless_their_writer_lives(tmp_path):
    name = f"embeddings-{'ab' * 8}-3-256"
    dead = tmp_path / f".{name}.npz.999999999.tmp"  # above any real pid_max
    alive = tmp_path / f".{name}.npz.1.tmp"  # pid 1 always runs
    other_model = tmp_path / f".embeddings-{'cd' * 8}-3-256.npz.999999999.tmp"
    for path in (dead, alive, other_model):
        path.write_bytes(b"half a file")
    EmbeddingCache(tmp_path, "ab" * 32, dimension=3, max_tokens=256)
    assert not dead.exists()
    assert alive.exists() and other_model.exists()


def test_the_cache_of_an_earlier_version_is_taken_over_not_embedded_again(tmp_path):
    old = tmp_path / f"embeddings-{'ab' * 8}-3-256.npz"
    np.savez(old, keys=np.array(["k"]), vectors=np.array([[1, 2, 3]], np.float32))
    cache = EmbeddingCache(tmp_path, "ab" * 32, dimension=3, max_tokens=256)
    assert np.array_equal(cache.get("k"), [1, 2, 3])
    assert not old.exists()


def test_chunk_cache_round_trips_a_documents_chunks(tmp_path):
    cache = ChunkCache(tmp_path, "ab" * 32, max_tokens=256, chunking_version=3)
    cache.put_chunks("doc", [{"id": "a#b", "text": "hello"}])
    cache.keep_only(["doc"])
    cache.close()
    assert ChunkCache(tmp_path, "ab" * 32, 256, 3).get_chunks("doc") == [{"id": "a#b", "text": "hello"}]
    assert ChunkCache(tmp_path, "ab" * 32, 128, 3).get_chunks("doc") is None
