"""Deciding whether the best passage answers the question, and cutting the answer sentences from it."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from ingest.text import CJK_RUN

# Logistic model of P(the top passage answers the question) from six features of the top hit.
# Fit by bench/fit_confidence.py (plain Newton/IRLS logistic regression, L2 1e-2) on the tuning
# questions (bench/eval/questions.yaml, and the Chinese bench/eval/zh.yaml since the Chinese edition)
# plus the extra off-topic and near-topic questions in bench/eval/calibration.yaml; never on the
# held-out sets. Rerun that script after changing the model, the tokeniser, the corpus or its
# scope file substantially, and paste its output here (the SHOWN_ constants below too, from a second
# run once these are in: they are fit on this model's scores).
INTERCEPT = -6.632
COEF_COSINE = 9.060
COEF_COVERAGE = 4.042
COEF_KNOWN = 4.092
COEF_CJK = 3.039
COEF_SCOPE = 17.921  # scope: see ingest/scope.py and corpus/_scope.yaml
# scope_zh: the same for Chinese questions, by words (lexical_scope_score), because the dense
# scope margin is weak for Chinese: a Chinese question is close to the Chinese edition's passages
# whatever it asks. Fitted on the tuning questions only (docs/quality.md, section 8).
COEF_SCOPE_ZH = 12.710
# Confidence below which the answer is null: chosen by the same script as the point that keeps
# (nearly) every answerable tuning question answered while refusing the most off-topic ones.
MIN_ANSWER_SCORE = 0.5
# Without a scope file (another site, set up with no curation) scope only says "off-topic": how
# much more the question resembles one of these kinds of question than the passage found for it.
# They are general kinds, written once for every corpus and never tuned on a site's questions. A
# site about one of them loses nothing: its own passages are then at least as close to the question.
GENERIC_OFF_TOPIC = (
    "the weather forecast, the news, or sports results and fixtures",
    "food, cooking, recipes, restaurants and nutrition",
    "health, illness, medicines, doses and seeing a doctor",
    "travel, hotels, flights, holidays and directions to a place",
    "shopping, prices, money, banking, taxes and personal finance",
    "repairing or using a car, a phone, a home appliance or another company's software",
    "general knowledge: geography, history, famous people, films and music",
    "relationships, dating, pets, gardening and household chores",
)
# Without a scope file the kinds also say how close a passage comes to a question by chance on this
# site. Each kind is a list of everyday topics ('the weather forecast', 'the news', ...); the site's
# best passage for each topic alone gets a cosine, and this percentile of them is the chance level:
# 0.28 on the thyroid guide without its scope file (136 passages), 0.39 on Python's documentation
# (13,400), where 'known' is 1.0 for almost any English question and no longer tells an off-topic
# one. A question whose best passage is no closer than that gets the off-topic margin against it
# (scope_score). The 90th percentile, not the closest topic, so that a site about a few of them (a
# health site: health, illness, medicines, doses) keeps the level the others give. Chosen on the
# tuning sets only (docs/quality.md, "A site nobody here wrote"): 50-80 refuse one more Python
# off-topic question than no level, 90-100 two; no thyroid tuning number moves at any of them.
CHANCE_PERCENTILE = 90
# Hits (other than the first) below this confidence are shown as "less related" on the page.
WEAK_THRESHOLD = 0.3
JUNCTION_WEIGHT = 0.25

# The confidence a reader sees on each passage: P(this passage's document is one that answers the
# question), a logistic model over the passage's own answer-model score (as a logit), its rank, how
# far its logit is behind the first passage's, and whether the question gets an answer at all
# (the first passage at MIN_ANSWER_SCORE or above). The answer model above judges each passage alone
# from word overlap, so on "a place where patients write about their experience and doctors answer
# questions" Mi Jian, Zhihu and Weibo all read 1.00; among several passages that look alike, only
# one or two are really the resource described, and rank and the distance behind the best say which.
# Fit by bench/fit_confidence.py on every top-5 passage of the tuning questions (questions.yaml,
# zh.yaml, calibration.yaml); its reliability on the held-out sets is in docs/quality.md.
SHOWN_INTERCEPT = -2.227
SHOWN_COEF_LOGIT = 0.042
SHOWN_COEF_RANK = -0.798
SHOWN_COEF_BEHIND = -0.670
SHOWN_COEF_ANSWERED = 4.369
# No model is sure: a shown 1.00 would claim what no measurement supports.
SHOWN_MAX = 0.99


@dataclass(frozen=True)
class Features:
    # Question vs passage cosine, times the question's share of non-CJK letters: the English
    # model's cosine says nothing about a Chinese question, so it fades out for one.
    cosine: float
    coverage: float  # idf-weighted share of the question's words (stems, CJK bigrams) in the passage
    known: float  # share of the question's content words found anywhere in the corpus (idf-weighted)
    cjk: float  # share of the question's letters that are Chinese/Japanese/Korean
    # Closest IN_SCOPE description's cosine minus closest OUT_OF_SCOPE one's, times the share of
    # non-CJK letters (like cosine). A property of the question, the same for every hit.
    scope: float = 0.0
    # The same margin for the question's Chinese part, by words (lexical_scope_score against the
    # scope file's Chinese translation), times the share of CJK letters: 0 for an English question.
    scope_zh: float = 0.0

    def as_list(self) -> list[float]:
        return [self.cosine, self.coverage, self.known, self.cjk, self.scope, self.scope_zh]


def confidence(f: Features) -> float:
    z = (
        INTERCEPT
        + COEF_COSINE * f.cosine
        + COEF_COVERAGE * f.coverage
        + COEF_KNOWN * f.known
        + COEF_CJK * f.cjk
        + COEF_SCOPE * f.scope
        + COEF_SCOPE_ZH * f.scope_zh
    )
    return 1.0 / (1.0 + math.exp(-z))


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def shown_features(score: float, rank: int, top_score: float) -> list[float]:
    """score: this passage's answer-model confidence; top_score: the first passage's. The last
    feature says whether the question gets an answer at all: without it, a logistic model linear in
    the logits gives the first passage of "明天上海天气怎么样" about 0.5, as it does a fair match."""
    return [
        _logit(score),
        float(rank),
        _logit(top_score) - _logit(score),
        1.0 if top_score >= MIN_ANSWER_SCORE else 0.0,
    ]


def shown_confidence(score: float, rank: int, top_score: float) -> float:
    """The per-passage confidence a reader sees (see SHOWN_INTERCEPT), never above SHOWN_MAX."""
    logit, rank_f, behind, answered = shown_features(score, rank, top_score)
    z = (
        SHOWN_INTERCEPT
        + SHOWN_COEF_LOGIT * logit
        + SHOWN_COEF_RANK * rank_f
        + SHOWN_COEF_BEHIND * behind
        + SHOWN_COEF_ANSWERED * answered
    )
    return min(1.0 / (1.0 + math.exp(-z)), SHOWN_MAX)


def features(
    cosine: float,
    cjk: float,
    query_tokens: set[str],
    passage_tokens: set[str],
    idf: dict[str, float],
    unknown_idf: float,
    alternatives: dict[str, set[str]] | None = None,
    scope: float = 0.0,
    scope_zh: float = 0.0,
) -> Features:
    """Coverage is weighted by inverse document frequency, so a question sharing only the words
    every passage has ('thyroid', 'cancer', 'group') does not look covered. A Chinese bigram found
    nowhere in the corpus is usually the junction of two words (么加 in 怎么加入), not a missing
    idea, so it counts for less. A word counts as covered when the passage has it or one of its
    curated synonyms (alternatives)."""
    words = question_words(query_tokens, idf, unknown_idf)
    return passage_features(cosine, cjk, words, passage_tokens, alternatives, scope, scope_zh)


@dataclass(frozen=True)
class QuestionWords:
    """The question's side of features(): the same for every passage of one edition, so a search
    weighs its words once per edition rather than once per passage shown."""

    weights: dict[str, float]  # each query token's idf (JUNCTION_WEIGHT for an unknown CJK bigram)
    total: float
    known: float  # the `known` feature


def question_words(query_tokens: set[str], idf: dict[str, float], unknown_idf: float) -> QuestionWords | None:
    """None for a question without tokens."""
    if not query_tokens:
        return None
    weights = {t: idf.get(t, unknown_idf * (JUNCTION_WEIGHT if CJK_RUN.match(t) else 1.0)) for t in query_tokens}
    total = sum(weights.values())
    return QuestionWords(weights, total, sum(w for t, w in weights.items() if t in idf) / total)


def passage_features(
    cosine: float,
    cjk: float,
    words: QuestionWords | None,
    passage_tokens: set[str],
    alternatives: dict[str, set[str]] | None = None,
    scope: float = 0.0,
    scope_zh: float = 0.0,
) -> Features:
    """features() from the question's words weighed once (question_words)."""
    cosine *= 1 - cjk
    scope *= 1 - cjk
    scope_zh *= cjk
    if words is None:
        return Features(cosine, 0.0, 0.0, cjk, scope, scope_zh)
    alternatives = alternatives or {}
    return Features(
        cosine=cosine,
        coverage=sum(
            w for t, w in words.weights.items() if t in passage_tokens or alternatives.get(t, _NONE) & passage_tokens
        )
        / words.total,
        known=words.known,
        cjk=cjk,
        scope=scope,
        scope_zh=scope_zh,
    )


_NONE: frozenset[str] = frozenset()


def everyday_topics() -> list[str]:
    """The topics the generic off-topic kinds list, each alone ('the news', 'cooking', ...)."""
    topics = (t.strip() for kind in GENERIC_OFF_TOPIC for t in re.split(r",|:|\band\b|\bor\b", kind))
    return list(dict.fromkeys(t for t in topics if t))


def chance_level(best_cosines: list[float]) -> float:
    """The site's chance level (CHANCE_PERCENTILE) from each everyday topic's best passage cosine."""
    return float(np.percentile(best_cosines, CHANCE_PERCENTILE))


def scope_score(
    query_vector: np.ndarray,
    in_scope: np.ndarray | None,
    out_of_scope: np.ndarray,
    passage_cosine: float,
    chance: float = -1.0,
) -> float:
    """How much more the question resembles what the corpus answers than what it does not.

    With a scope file, the closest 'answers' description against the closest 'does_not_answer'
    one. Without one (in_scope None, out_of_scope the generic kinds), never above 0: the passage's
    cosine minus the closest generic off-topic kind's, or minus the site's `chance` level
    (chance_level), whichever is higher. Measured on the thyroid guide without its scope file,
    comparing with the document titles instead made every near-topic medical question look
    answerable (no-answer recall 1.0 -> 0.5), so titles are not used.
    """
    return scope_from_margins(*scope_margins(query_vector, in_scope, out_of_scope), passage_cosine, chance)


def scope_margins(
    query_vector: np.ndarray, in_scope: np.ndarray | None, out_of_scope: np.ndarray
) -> tuple[float | None, float]:
    """The question's side of scope_score (closest 'answers' cosine or None, closest off-topic cosine):
    computed once per question, not once per passage."""
    off_topic = float(np.max(out_of_scope @ query_vector))
    return (None if in_scope is None else float(np.max(in_scope @ query_vector))), off_topic


def scope_from_margins(in_scope: float | None, off_topic: float, passage_cosine: float, chance: float = -1.0) -> float:
    """scope_score from scope_margins."""
    if in_scope is None:
        return min(0.0, passage_cosine - max(off_topic, chance))
    return in_scope - off_topic


def lexical_scope_score(
    query_tokens: set[str],
    in_scope: set[str],
    out_of_scope: set[str],
    alternatives: dict[str, set[str]] | None = None,
) -> float:
    """scope_score by words, for a language the embedding model cannot read: the share of the
    question's tokens among the words of the 'answers' descriptions, minus their share among the
    words of the 'does_not_answer' ones (a token counts when it or one of its curated synonyms is
    there). In [-1, 1]; 0 when the question has no tokens or there are no descriptions.

    Tokens count alike and the descriptions of each list are pooled: by the answer model's 10-fold
    cross-validated log-loss on the tuning questions, 0.132, against 0.138 weighting tokens by the
    corpus's idf (as coverage does) and 0.134 taking the closest description (as scope_score does);
    docs/quality.md. The caller leaves out of `out_of_scope` the words the corpus itself uses."""
    if not query_tokens or not in_scope or not out_of_scope:
        return 0.0

    alternatives = alternatives or {}

    def share(words: set[str]) -> float:
        found = sum(1 for t in query_tokens if t in words or alternatives.get(t, set()) & words)
        return found / len(query_tokens)

    return share(in_scope) - share(out_of_scope)


def inverse_document_frequencies(passages: list[set[str]]) -> tuple[dict[str, float], float]:
    """BM25-style idf of every token over the passages, and the idf a token in none of them gets."""
    n = len(passages)
    df: dict[str, int] = {}
    for tokens in passages:
        for t in tokens:
            df[t] = df.get(t, 0) + 1
    return {t: math.log(1 + (n - d + 0.5) / (d + 0.5)) for t, d in df.items()}, math.log(1 + (n + 0.5) / 0.5)


# Opening words that refer to the sentence before (English and Chinese).
_POINTS_BACK = re.compile(
    r"(?:(?:there|here|it|its|this|that|these|those|they|their|such)\b|它|这|那里|那儿|其)", re.IGNORECASE
)


def pick_sentences(
    sentences: list[str], vectors: np.ndarray, query_vector: np.ndarray, overlaps: list[float], max_sentences: int = 2
) -> str:
    """The sentence that best matches the question, joined with a neighbour when that helps.

    A sentence scores its cosine to the question plus a bonus for the question's own words, so
    'where can I talk about I-131' prefers the sentence naming I-131 over a generic one. A short
    best sentence (a heading-like line) or a neighbour that scores nearly as well is kept together
    with it, up to max_sentences.
    """
    if len(sentences) <= 1:
        return " ".join(sentences)
    scores = vectors @ query_vector + 0.3 * np.asarray(overlaps, dtype=np.float32)
    best = int(np.argmax(scores))
    chosen = [best]
    # "There, many patients share..." alone leaves the reader asking where: a sentence that points
    # back brings the one it points to.
    if best > 0 and max_sentences > 1 and _POINTS_BACK.match(sentences[best]):
        chosen.append(best - 1)
    while len(chosen) < max_sentences:
        lo, hi = min(chosen) - 1, max(chosen) + 1
        options = [i for i in (lo, hi) if 0 <= i < len(sentences)]
        if not options:
            break
        nxt = max(options, key=lambda i: scores[i])
        short = sum(len(sentences[i]) for i in chosen) < 90
        if not short and scores[nxt] < scores[best] - 0.08:
            break
        chosen.append(nxt)
    return " ".join(sentences[i] for i in sorted(chosen))
