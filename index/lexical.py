"""BM25 over chunks (bm25s), with English stemming and Chinese word segmentation.

Latin words are lower-cased, stop-worded and Snowball-stemmed (a version built on 2026-12-03 also
indexed each word as written, SURFACE, and is still searched as it was built). Chinese has no spaces,
so a whole run would be one unmatchable token: runs are first converted from traditional to
simplified characters (OpenCC), so 甲狀腺癌 matches 甲状腺癌, then cut into tokens by SEGMENTER.
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path

import bm25s
import jieba
import numpy as np
import opencc
import Stemmer
from bm25s.stopwords import STOPWORDS_EN

from ingest import Chunk
from ingest.text import CJK_RUN

_WORD = re.compile(r"[a-z0-9]+(?:['\-][a-z0-9]+)*")
# bm25s's list is Lucene's 33 words; readers type whole sentences ("i'm 2 years past surgery and
# want to give something back"), so pronouns, auxiliaries, contractions and fillers go too: they
# would otherwise dilute both BM25 and the answer-confidence coverage (measured in docs/quality.md).
_FUNCTION_WORDS = """
can could would should shall may might must do does did doing done have has had having am were been
being where how what who whom whose which when why i me my mine myself we us our ours you your yours
he him his she her hers it its they them their theirs this that those these here there about find
get got any some anyone someone something anything everyone each every very really just also too
so than then now still even much many more most other others own same such only please thanks
thank want wants need needs like know tell let lets going go im ive id ill dont cant wont didnt
doesnt isnt arent youre theyre whats thats hes shes s t m ll ve re d from up down out off over
again once all both few while because until against between through during before after above
below into onto upon
""".split()
_STOP = frozenset(STOPWORDS_EN) | frozenset(_FUNCTION_WORDS)
_stemmer = Stemmer.Stemmer("english")
EDITIONS = "editions.json"  # language -> {rows, segmenter}, beside one BM25 folder per language
_to_simplified = opencc.OpenCC("t2s")
jieba.setLogLevel(60)  # its "Building prefix dict" lines would land in every build's and test's output
# How runs of Chinese characters become tokens (measured in docs/quality.md):
# "bigram": overlapping character bigrams, as Lucene's CJKAnalyzer (好大夫在线 → 好大 大夫 夫在 在线);
# "jieba": jieba's search-engine mode, words and the shorter words inside them
#          (好大夫在线 → 大夫 在线 好大夫 好大夫在线 as it segments);
# "both": the union.
# SEGMENTER is the default (questions' tokens for the answer confidence, and every edition not in
# EDITION_SEGMENTERS); each BM25 edition records the one it was built with.
SEGMENTER = "both"
# The English edition's Chinese is only aliases (觅健, 病友群): it keeps the bigrams it was tuned
# with, so adding the Chinese edition leaves English ranking exactly as it was (docs/quality.md).
EDITION_SEGMENTERS = {"en": "bigram"}


# Chinese function words and fillers of typed questions, the counterpart of _FUNCTION_WORDS: in
# "确诊甲状腺癌以后，我想找一些病友交流经验" 以后, 我想 and 一些 would otherwise match passages that
# share nothing but grammar with the question. Dropped from questions only (LexicalIndex.scores):
# dropping them from passages too changes every edition's document lengths, and cost the English
# tuning set one question at hit@1 (docs/quality.md).
_CJK_STOP = frozenset(
    """
我 你 他 她 它 我们 你们 他们 的 了 吗 呢 啊 吧 呀 嘛 哦 着 过 和 与 或 也 还 都 就 又 很 太 更 最 在 是 不是
有 没有 有没有 有人 想 我想 要 能 可以 会 应该 到底 一些 一下 一个 这个 那个 这些 那些 什么 怎么 怎样 怎么办
哪里 哪个 哪些 为什么 如果 因为 所以 但是 以后 之后 后来 已经 刚 刚刚 现在 时候 特别 比较 非常 自己 大家 别人
可 能不能 是不是 里 上 下 去 来 给 让 把 被 对 从 到 说 看 找 做 一 些 个
""".split()
)


def _cjk_tokens(run: str, segmenter: str) -> list[str]:
    tokens: list[str] = []
    if segmenter in ("jieba", "both"):
        tokens.extend(w for w in jieba.cut_for_search(run) if w.strip())
    if segmenter in ("bigram", "both") or not tokens:
        grams = [run] if len(run) == 1 else [run[i : i + 2] for i in range(len(run) - 1)]
        tokens.extend(grams)
    return tokens


def tokenize(text: str, segmenter: str | None = None) -> list[str]:
    text = unicodedata.normalize("NFKC", text).lower()
    tokens: list[str] = []
    for run in CJK_RUN.findall(text):
        tokens.extend(_cjk_tokens(_to_simplified.convert(run), segmenter or SEGMENTER))
    for word in _WORD.findall(CJK_RUN.sub(" ", text)):
        if word in _STOP:
            continue
        if "-" in word or "'" in word:
            # "i-131" also matches "I131" and "131"; "follow-up" matches "follow up".
            parts = re.split(r"['\-]", word)
            tokens.append("".join(parts))
            tokens.extend(p for p in parts if len(p) > 1 and p not in _STOP)
        else:
            tokens.append(word)
    return _stemmer.stemWords(tokens)


# Versions built with LEXICAL_VERSION 2 indexed every Latin word twice, its stem and the word as
# written marked with this prefix (which no token can contain), and such a version is still searched
# both ways, as it was built. New builds index stems alone: on questions written afterwards for the
# choice and measured once (bench/eval/*fresh*.yaml), stems alone ranked a little better (summed
# MRR@10 3.417 against 3.388), and written words had cost the thyroid guide's held-out sets a question
# each; docs/quality.md, "A default fitted on four sites".
SURFACE = "="
# Part of the corpus fingerprint: a version indexed with other BM25 terms is stale.
LEXICAL_VERSION = 3


def _written_forms(text: str) -> list[str]:
    """The SURFACE terms of a text (each Latin word as written, marked), as a version built with them
    indexed them."""
    return [SURFACE + w for w in _written_words(unicodedata.normalize("NFKC", text).lower())]


def _written_words(text: str) -> list[str]:
    """The Latin words of a lower-cased, NFKC-normalised text as written ("per-view" stays one word),
    stop words out. (Splitting them as tokenize does was measured too: one Django question worse.)"""
    return [w for w in _WORD.findall(CJK_RUN.sub(" ", text)) if w not in _STOP]


def query_tokens(text: str, segmenter: str | None = None) -> tuple[str, ...]:
    """tokenize(text, segmenter), remembered: one question is tokenised by the BM25 editions, the answer
    model and the synonyms, and all of them can share one result (the segmenter changes only Chinese
    runs, so a question without any is tokenised once for every edition)."""
    segmenter = segmenter or SEGMENTER
    if segmenter != SEGMENTER and not has_cjk(text):
        segmenter = SEGMENTER
    return _remembered_tokens(text, segmenter)


@functools.lru_cache(maxsize=1024)
def _remembered_tokens(text: str, segmenter: str) -> tuple[str, ...]:
    return tuple(tokenize(text, segmenter))


@functools.lru_cache(maxsize=1024)
def _surface_words(text: str) -> tuple[str, ...]:
    """_written_forms of a question, remembered like its stems (query_tokens)."""
    return tuple(_written_forms(text))


def has_cjk(text: str) -> bool:
    """Whether tokenize() would see a Chinese run in text (after its normalisation)."""
    return CJK_RUN.search(unicodedata.normalize("NFKC", text)) is not None


def cjk_words(tokens: Iterable[str]) -> set[str]:
    """The Chinese content words among a text's tokens (from tokenize), function words dropped as
    in a question's BM25 tokens: what a Chinese question and a Chinese scope description are
    compared on (index/answer.lexical_scope_score)."""
    return {t for t in tokens if CJK_RUN.match(t) and t not in _CJK_STOP}


def chunk_text(chunk: Chunk) -> str:
    """What BM25 indexes: the passage plus the names users type for its document."""
    return " ".join([chunk.title, chunk.section, " ".join(chunk.aliases), " ".join(chunk.tags), chunk.text])


class LexicalIndex:
    """One BM25 index per language edition of the corpus, answering for every chunk row.

    Each edition keeps its own term statistics, so adding a translation changes neither the idf
    nor the document lengths the original is scored with (the English numbers of `beacon eval`
    stay what they were), and a question is scored against each edition on that edition's terms."""

    def __init__(self, editions: list[tuple[str, np.ndarray, bm25s.BM25, str, bool]], size: int):
        # (language, chunk rows, BM25 over those rows, its segmenter, whether it has SURFACE words: only
        # a version built with LEXICAL_VERSION 2 has them, and is looked up both ways, as it was built)
        self._editions = editions
        self.size = size

    @classmethod
    def build(cls, chunks: list[Chunk], declared: list[str | None] | None = None) -> LexicalIndex:
        """declared: each chunk's document language (front matter or corpus default), if known."""
        from .language import language_of

        declared = declared or [None] * len(chunks)
        langs = [language_of(c.doc_id, d) for c, d in zip(chunks, declared)]
        editions = []
        for lang in sorted(set(langs)):
            rows = np.array([i for i, l in enumerate(langs) if l == lang], dtype=np.int64)
            segmenter = EDITION_SEGMENTERS.get(lang, SEGMENTER)
            bm25 = bm25s.BM25()
            bm25.index([tokenize(chunk_text(chunks[i]), segmenter) or ["\0"] for i in rows], show_progress=False)
            editions.append((lang, rows, bm25, segmenter, False))
        return cls(editions, len(chunks))

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / EDITIONS).write_text(
            json.dumps(
                {
                    lang: {"rows": rows.tolist(), "segmenter": seg, "surface": surface}
                    for lang, rows, _, seg, surface in self._editions
                }
            ),
            encoding="utf-8",
        )
        for lang, _, bm25, _, _ in self._editions:
            bm25.save(str(directory / lang), show_progress=False)

    @classmethod
    def load(cls, directory: Path, size: int) -> LexicalIndex:
        if not (directory / EDITIONS).is_file():  # a version built before editions: one BM25 over all rows
            bm25 = bm25s.BM25.load(str(directory), mmap=False, show_progress=False)
            return cls([("", np.arange(size, dtype=np.int64), bm25, "bigram", False)], size)
        editions = json.loads((directory / EDITIONS).read_text(encoding="utf-8"))
        return cls(
            [
                (
                    lang,
                    np.asarray(e["rows"], dtype=np.int64),
                    bm25s.BM25.load(str(directory / lang), mmap=False, show_progress=False),
                    e["segmenter"],
                    bool(e.get("surface", False)),
                )
                for lang, e in editions.items()
            ],
            size,
        )

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every chunk for the query (0 where no term matches)."""
        out = np.zeros(self.size, dtype=np.float32)
        for _, rows, bm25, segmenter, surface in self._editions:
            vocab = bm25.vocab_dict
            tokens = query_tokens(query, segmenter) + (_surface_words(query) if surface else ())
            ids = [vocab[t] for t in tokens if t not in _CJK_STOP and t in vocab]
            if ids:
                out[rows] = np.asarray(_bm25_scores(bm25, ids), dtype=np.float32)
        return out


def _bm25_scores(bm25: bm25s.BM25, ids: list[int]) -> np.ndarray:
    """bm25.get_scores_from_ids(ids), the same float32 sums in the same order (token by token), less its
    overhead: np.add.at per token and the checks cost ~0.1 ms a question after the encoder has run. A
    token's postings name each document once, so a plain indexed add does what np.add.at does."""
    data, indices, indptr = bm25.scores["data"], bm25.scores["indices"], bm25.scores["indptr"]
    scores = np.zeros(bm25.scores["num_docs"], dtype=np.dtype(bm25.dtype))
    for token in ids:
        start, end = indptr[token], indptr[token + 1]
        scores[indices[start:end]] += data[start:end]
    if bm25.nonoccurrence_array is not None:  # BM25L and BM25+ (not the default, Lucene's)
        scores += bm25.nonoccurrence_array[np.asarray(ids, dtype=np.dtype(bm25.int_dtype))].sum()
    return scores
