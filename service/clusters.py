"""Unanswered questions grouped by meaning, for the curators: "what to write next", biggest group first.

Questions are grouped within their language (index.language.detect) by scikit-learn's agglomerative
clustering on cosine distance, average linkage, cut at a distance threshold, so the number of groups
follows the questions. What the distance is measured on differs by language, because the bundled model
(all-MiniLM-L6-v2) is English-only:

- English: the index's model's vectors. On 3 topics x 4 phrasings (tests/service/test_dashboard.py)
  average linkage gives one group per topic for every cut from 0.68 to 0.80 (one phrasing lies 0.78
  from its own topic's nearest, other topics at least 0.45 away: average linkage, not single, copes);
  on another 10 phrasings of the same topics, for cuts 0.60 to 0.80. 0.72 sits inside both.
- Chinese: the model puts every Chinese question near every other (two on unrelated topics measured
  0.01 apart), so they are compared on their words instead: TF-IDF over the Chinese content words the
  index's BM25 uses (index.lexical: jieba, function words dropped). On 3 topics x 4 phrasings every cut
  from 0.80 to 0.93 gives one group per topic; 0.85 sits in the middle. Paraphrases that share no word
  (医保 and 保险) stay apart: a limit of words, said in docs/dashboard.md.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.cluster import AgglomerativeClustering
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from index.language import detect
from index.lexical import cjk_words, tokenize

ENGLISH_THRESHOLD = 0.72
CHINESE_THRESHOLD = 0.85


@dataclass(frozen=True)
class Asked:
    """One distinct question and how often it went unanswered."""

    question: str
    times: int


@dataclass(frozen=True)
class Group:
    questions: tuple[Asked, ...]  # most asked first
    languages: tuple[str, ...]

    @property
    def size(self) -> int:
        """Times its questions were asked, all together."""
        return sum(q.times for q in self.questions)


def _chinese_words(question: str) -> list[str]:
    return sorted(cjk_words(tokenize(question, "jieba")))


def _labels(vectors: np.ndarray, threshold: float) -> np.ndarray:
    if len(vectors) < 2:
        return np.zeros(len(vectors), dtype=int)
    clustering = AgglomerativeClustering(
        n_clusters=None, metric="cosine", linkage="average", distance_threshold=threshold
    )
    return clustering.fit_predict(vectors)


def _by_language(items: list[Asked], lang: str, encode: Callable[[list[str]], np.ndarray]) -> list[list[Asked]]:
    texts = [a.question for a in items]
    if lang == "zh":
        words = [_chinese_words(t) for t in texts]
        wordless = [a for a, w in zip(items, words, strict=True) if not w]
        items = [a for a, w in zip(items, words, strict=True) if w]
        # A question of function words only has no vector to compare: it stands alone.
        groups = [[a] for a in wordless]
        if not items:
            return groups
        vectors = TfidfVectorizer(analyzer=_chinese_words).fit_transform([a.question for a in items]).toarray()
        labels = _labels(normalize(vectors), CHINESE_THRESHOLD)
    else:
        groups = []
        labels = _labels(normalize(encode(texts)), ENGLISH_THRESHOLD)
    members: dict[int, list[Asked]] = {}
    for item, label in zip(items, labels, strict=True):
        members.setdefault(int(label), []).append(item)
    return groups + list(members.values())


def group_questions(questions: Sequence[Asked], encode: Callable[[list[str]], np.ndarray]) -> list[Group]:
    """Groups of `questions`, biggest first (then the one whose top question was asked most).
    `encode` is the index's embedder's `encode` (texts → one row each)."""
    by_lang: dict[str, list[Asked]] = {}
    for q in questions:
        by_lang.setdefault(detect(q.question), []).append(q)
    groups = []
    for lang, items in sorted(by_lang.items()):
        for members in _by_language(items, lang, encode):
            members.sort(key=lambda a: (-a.times, a.question))
            groups.append(Group(tuple(members), (lang,)))
    groups.sort(key=lambda g: (-g.size, -g.questions[0].times, g.questions[0].question))
    return groups
