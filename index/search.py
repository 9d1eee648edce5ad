"""Query time: spelling fixes and synonyms, dense and lexical retrieval fused (index/fusion.py),
near-duplicates dropped, at most a few sections per document, a calibrated confidence and an
extractive answer. Hits stay in score order (the API promises descending scores); the page groups
them by document (service/pages.py)."""

from __future__ import annotations

import dataclasses
import functools
import re
from collections import Counter
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Literal

import numpy as np

from ingest import Chunk
from ingest.scope import Scope
from ingest.text import cjk_share, solid_length

from . import answer, language
from .answer import pick_sentences
from .embedder import Embedder
from .errors import IndexCorruptError
from .expansion import SynonymExpander
from .fusion import DENSE_WEIGHT, LEXICAL_WEIGHT, NO_RANKING, Ranking, fuse_by_language
from .lexical import chunk_text, cjk_words, query_tokens, tokenize
from .store import StoredIndex, load_live, read_site_json
from .typos import SpellFixer

Mode = Literal["hybrid", "dense", "lexical"]


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    score: float  # the fused ranking score; higher is better
    dense: float  # cosine similarity of question and passage, in [-1, 1]
    lexical: float  # BM25 score, 0 when no query word occurs in the passage
    # The confidence shown with the passage: calibrated chance that its document answers the
    # question, given its rank among the others (answer.shown_confidence); never above 0.99.
    confidence: float = 0.0
    weak: bool = False  # shown as "less related" on the page
    lang: str = language.DEFAULT_LANGUAGE  # the language of the passage's edition
    # The other editions of the passage's document, (language, document id), for a language switch.
    twins: tuple[tuple[str, str], ...] = ()
    # The answer model's P(this passage answers), judged alone (answer.confidence): decides whether
    # there is an answer at all.
    answer_score: float = 0.0
    # Other passages of the same section that ranked below this one (a long section split in parts):
    # shown under it as sub-results, so each of the top k is a different place on the site.
    more: tuple[Chunk, ...] = ()


@dataclass(frozen=True)
class Answer:
    text: str  # the sentence or two of the best passage that answer the question
    result: int  # position in the hits list of the passage it comes from
    score: float  # the confidence shown with its passage (that Hit's confidence)


@dataclass(frozen=True)
class SearchResult:
    query: str
    hits: list[Hit]
    answer: Answer | None
    corrected: str | None = None  # the query as searched, when spelling correction changed it
    lang: str = language.DEFAULT_LANGUAGE  # the question's language, as detected
    # Per filter label, how many of the question's candidate passages carry it (see Searcher.search).
    facets: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class _Question:
    """A question as the search stages read it (Searcher._understand)."""

    text: str
    corrected: str  # after spelling correction: what is searched
    vector: np.ndarray
    lang: str
    cjk: float  # share of CJK characters in the question as typed
    tokens: set[str]  # BM25 tokens of the corrected question
    alternatives: dict[str, set[str]]  # synonyms of its words (expansion.SynonymExpander.alternatives)
    lexical_scores: np.ndarray  # BM25 score of every row, synonyms blended in
    # Its Chinese words against the scope file's Chinese descriptions (answer.lexical_scope_score),
    # 0 without them.
    scope_zh: float = 0.0
    # The question's side of the scope feature (answer.scope_margins): the same for every passage.
    scope_margins: tuple[float | None, float] = (None, 0.0)


# Answer passages whose sentences' words a searcher keeps (a few sets of words each).
SENTENCE_WORDS_PASSAGES = 4096


@dataclass(frozen=True)
class SearchSettings:
    mode: Mode = "hybrid"
    # How the two rankings are fused (fusion.FUSIONS): "scores" adds each retriever's min-max
    # normalised scores times its weight; "rrf" adds weight / (rrf_k + rank). 60 is the constant from
    # Cormack et al. (2009); it damps the difference between the first few ranks.
    fusion: str = "scores"
    rrf_k: int = 60
    # The weights of each ranking in the fusion. None: the site's own (dense_weight and lexical_weight
    # in its site file, stored with each version), else DENSE_WEIGHT and LEXICAL_WEIGHT; a number
    # given here (BEACON_DENSE_WEIGHT, BEACON_LEXICAL_WEIGHT) wins over the site's. A Searcher's own
    # settings always hold the numbers in use.
    dense_weight: float | None = None
    lexical_weight: float | None = None
    # all-MiniLM-L6-v2 is an English model: for a question written in Chinese its ranking is close
    # to noise, so the dense weight shrinks by this share of the question's CJK characters.
    cjk_dense_discount: float = 1.0
    # BM25 weight of synonyms of the question's words (see corpus/_synonyms.yaml).
    synonym_weight: float = 0.3
    candidates: int = 50  # per retriever, before fusion
    min_answer_score: float = answer.MIN_ANSWER_SCORE
    weak_confidence: float = answer.WEAK_THRESHOLD
    answer_sentences: int = 2
    # Passages whose vectors are this close to one already shown repeat it; they are dropped.
    duplicate_cosine: float = 0.95
    # Sections shown per document, so one document with many sections does not fill the page.
    max_per_document: int = 3
    # Passages of an already shown section kept under it as sub-results (Hit.more), best first.
    max_per_section: int = 3
    # A passage from an edition in another language than the question's has its fused score
    # multiplied by this, so the question's own edition comes first, yet a passage of the other
    # edition that ranks far better (it answers, the own edition does not) still wins.
    # Measured (docs/quality.md): 0.4 and 0.7 score the same on every set; 1.0, no preference,
    # drops Chinese tuning hit@1 from 0.917 to 0.833 and answers 3 Chinese questions in 10 in English.
    other_language_factor: float = 0.7
    # Editions the embedding model reads. all-MiniLM-L6-v2 is English-only: its vectors of Chinese
    # passages rank them close to randomly, so an edition outside this list is ranked by BM25
    # alone (a multilingual model would list both).
    dense_languages: tuple[str, ...] = ("en",)


class Searcher:
    """Answers questions over one loaded index version; immutable, so it can be swapped whole."""

    def __init__(self, stored: StoredIndex, embedder: Embedder, settings: SearchSettings = SearchSettings()):
        if stored.manifest.model_sha256 != embedder.weights_sha256:
            raise IndexCorruptError(
                f"index {stored.manifest.version} was built with model '{stored.manifest.model}', "
                f"but the service runs '{embedder.name}'",
                "rebuild with 'beacon build' using the same --model as the service",
            )
        self.stored = stored
        self.embedder = embedder
        self.settings = with_site_weights(settings, stored.directory)
        texts = [chunk_text(c) for c in stored.chunks]
        synonyms = stored.extras.synonyms
        self.spelling = SpellFixer(texts + [" ".join(g) for g in synonyms])
        self.synonyms = SynonymExpander(synonyms)
        self._passage_tokens = [set(tokenize(t)) for t in texts]
        self._in_scope, self._out_of_scope = _scope_vectors(stored, embedder)
        self._langs = [
            language.language_of(c.doc_id, stored.documents.get(c.doc_id, {}).get("lang")) for c in stored.chunks
        ]
        self._languages = sorted(set(self._langs)) or [language.DEFAULT_LANGUAGE]
        # Per row, what every search reads of it, worked out once per version rather than per
        # candidate per question (the twin key is a regex; _select read it ~100 times a question).
        self._edition_of = np.array([self._languages.index(l) for l in self._langs], dtype=np.int64)
        self._dense_rows = np.array([l in self.settings.dense_languages for l in self._langs], dtype=bool)
        self._twin_keys = [language.twin_key(c.doc_id) for c in stored.chunks]
        self._sections = [(c.doc_id, c.anchor) for c in stored.chunks]
        self._row_vector = stored.vector_reader()
        numbered = {section: i for i, section in enumerate(dict.fromkeys(self._sections))}
        self._section_ids = np.array([numbered[section] for section in self._sections], dtype=np.int64)
        self._chance = -1.0 if self._in_scope is not None else self._chance_level()
        self._editions: dict[str, dict[str, str]] = {}  # twin key -> {language: document id}
        for c, lang in zip(stored.chunks, self._langs):
            self._editions.setdefault(language.twin_key(c.doc_id), {})[lang] = c.doc_id
        # Word weights per edition, like BM25's (index/lexical.py): a translation beside the
        # original changes neither's idf.
        self._idf_by_language = {
            lang: answer.inverse_document_frequencies(
                [t for t, l in zip(self._passage_tokens, self._langs) if l == lang]
            )
            for lang in self._languages
        }
        self._labels = [filter_labels(c) for c in stored.chunks]
        self.labels: frozenset[str] = frozenset().union(*self._labels)
        self._zh_scope_words = _lexical_scope_words(
            stored.extras.scope.translation("zh"),
            [t for t, l in zip(self._passage_tokens, self._langs) if l == "zh"] or self._passage_tokens,
        )
        self._sentences: dict[int, list[int]] = {}
        for i, row in enumerate(stored.extras.sentence_rows):
            self._sentences.setdefault(row, []).append(i)

    @property
    def version(self) -> str:
        return self.stored.manifest.version

    def search(
        self, query: str, k: int = 5, mode: Mode | None = None, tags: frozenset[str] | None = None
    ) -> SearchResult:
        """`tags` keeps only passages carrying at least one of these filter labels (see filter_labels).

        The filter restricts the candidates of both retrievers before fusion and the top-k cut, so a
        filtered search still returns k passages when the corpus has them. `facets` counts, per label,
        the question's candidates without the filter: what each filter would show."""
        mode = mode or self.settings.mode
        q = self._understand(query)
        dense, lexical = self._candidates(q, mode)
        ranked = self._rank(q, mode, dense, lexical)
        facets = Counter(chain.from_iterable(map(self._labels.__getitem__, ranked[0].tolist()))) if self.labels else {}
        if tags:
            ranked = self._rank(q, mode, *self._candidates(q, mode, self._rows_with(tags)))
        hits = self._select(q, ranked, k)
        found = self._answer(q.vector, q.tokens, hits, q.lang)
        return SearchResult(
            query=query,
            hits=link_to_answer(hits, found),
            answer=found,
            corrected=q.corrected if q.corrected != query else None,
            lang=q.lang,
            facets=dict(facets),
        )

    def confidence_features(self, query: str, hit: Hit) -> answer.Features:
        """The answer model's features for one hit of `query`, computed exactly as search() does
        (bench/fit_confidence.py fits the model on these, so it can never drift from the one that serves)."""
        return self._features(self._understand(query), self._rows[hit.chunk.id], hit.dense)

    # --- the stages of a search, in order ------------------------------------------------------------

    def _understand(self, query: str) -> _Question:
        """Spelling, synonyms, the question's vector, language and words: everything later stages read."""
        corrected = self.spelling.correct(query)
        synonyms = self.synonyms.match(corrected)
        expansions, alternatives = synonyms.expansions, synonyms.alternatives
        lexical_all = self.stored.lexical.scores(corrected)
        if expansions:
            lexical_all = lexical_all + self.settings.synonym_weight * self.stored.lexical.scores(" ".join(expansions))
        tokens = set(query_tokens(corrected))
        vector = self.embedder.encode_query(corrected)
        return _Question(
            text=query,
            corrected=corrected,
            vector=vector,
            lang=language.detect(corrected),
            cjk=cjk_share(query),
            tokens=tokens,
            alternatives=alternatives,
            lexical_scores=lexical_all,
            scope_zh=answer.lexical_scope_score(cjk_words(tokens), *self._zh_scope_words, alternatives),
            scope_margins=answer.scope_margins(vector, self._in_scope, self._out_of_scope),
        )

    def _candidates(self, q: _Question, mode: Mode, allowed: np.ndarray | None = None) -> tuple[Ranking, Ranking]:
        """Each retriever's best rows, best first (rows, scores), per edition, within `allowed` rows when given."""
        s = self.settings
        n = s.candidates * len(self._languages)  # each edition is ranked on its own (fuse_by_language)
        dense = lexical = NO_RANKING
        if mode != "lexical":
            if allowed is None:
                rows, scores = self.stored.nearest(q.vector, n)
            else:
                found = self.stored.search(q.vector, n, allowed)
                rows = np.array([r for r, _ in found], dtype=np.int64)
                scores = np.array([v for _, v in found], dtype=np.float32)
            keep = rows >= 0
            keep[keep] = self._dense_rows[rows[keep]]
            dense = (rows[keep], scores[keep])
        if mode != "dense":
            scores = q.lexical_scores if allowed is None else np.where(allowed, q.lexical_scores, 0.0)
            top = np.argsort(-scores)[:n]
            top = top[scores[top] > 0]
            lexical = (top, scores[top])
        return dense, lexical

    def _rank(self, q: _Question, mode: Mode, dense: Ranking, lexical: Ranking) -> Ranking:
        """The two rankings fused per edition (fusion.fuse_by_language); the dense weight shrinks for
        Chinese questions."""
        s = self.settings
        dense_weight = s.dense_weight * (1 - s.cjk_dense_discount * q.cjk) if mode == "hybrid" else s.dense_weight
        return fuse_by_language(
            [(dense_weight, *dense), (s.lexical_weight, *lexical)],
            s.rrf_k,
            self._edition_of,
            self._languages.index(q.lang) if q.lang in self._languages else -1,
            s.other_language_factor,
            s.candidates,
            s.fusion,
        )

    def _select(self, q: _Question, ranked: Ranking, k: int) -> list[Hit]:
        """The first k places worth showing: one edition per resource, a few sections per document,
        one slot per section (its other passages become the slot's sub-results), no near-duplicates,
        each with its confidence."""
        s = self.settings
        hits, kept_vectors, per_document = [], [], Counter()
        edition: dict[str, str] = {}  # twin key -> the edition shown for it
        slot: dict[tuple[str, str], int] = {}  # (document, section anchor) -> its position in hits
        words: dict[str, answer.QuestionWords | None] = {}  # the question's words weighed per edition
        chunks, twin_keys, sections = self.stored.chunks, self._twin_keys, self._sections
        rows, scores = ranked[0].tolist(), ranked[1].tolist()
        at = 0
        while at < len(rows) and len(hits) < k:
            row, fused = rows[at], scores[at]
            at += 1
            key, section = twin_keys[row], sections[row]
            # One edition per resource: the best-ranked one (the question's language, unless the
            # other answers much better); its twin is offered as a switch, not as another result.
            if edition.setdefault(key, section[0]) != section[0]:
                continue
            place = slot.get(section)
            if place is None and per_document[key] >= s.max_per_document:
                continue
            row_vector = self._row_vector(row)
            if any(float(row_vector @ v) > s.duplicate_cosine for v in kept_vectors):
                continue
            if place is not None:
                self._add_part(hits, place, chunks[row], row_vector, kept_vectors)
                continue
            per_document[key] += 1
            cosine = float(row_vector @ q.vector)
            sure = answer.confidence(self._features(q, row, cosine, words))
            shown = answer.shown_confidence(sure, len(hits), hits[0].answer_score if hits else sure)
            slot[section] = len(hits)
            chunk = chunks[row]
            hits.append(
                Hit(
                    chunk,
                    fused,
                    cosine,
                    float(q.lexical_scores[row]),
                    shown,
                    weak=shown < s.weak_confidence,
                    lang=self._langs[row],
                    twins=tuple((l, d) for l, d in sorted(self._editions[key].items()) if d != chunk.doc_id),
                    answer_score=sure,
                )
            )
            kept_vectors.append(row_vector)
        if at < len(rows) and hits:
            # The k places are taken: only a later part of a shown section can still come (as a
            # sub-result); a row of any other section changes nothing. Picked out at once rather than
            # walked row by row (~150 rows a question).
            shown_sections = self._section_ids[[r for r in rows[:at] if sections[r] in slot]]
            for j in np.flatnonzero(np.isin(self._section_ids[ranked[0][at:]], shown_sections)).tolist():
                row = rows[at + j]
                row_vector = self._row_vector(row)
                if not any(float(row_vector @ v) > s.duplicate_cosine for v in kept_vectors):
                    self._add_part(hits, slot[sections[row]], chunks[row], row_vector, kept_vectors)
        return hits

    def _add_part(self, hits: list[Hit], place: int, chunk: Chunk, vector: np.ndarray, kept: list) -> None:
        """Two parts of one section would show one place twice (measured on the Rust book:
        'mutable-references' held two of the top three); the later part goes under the first."""
        if len(hits[place].more) < self.settings.max_per_section:
            hits[place] = dataclasses.replace(hits[place], more=hits[place].more + (chunk,))
            kept.append(vector)

    def _features(
        self, q: _Question, row: int, cosine: float, words: dict[str, answer.QuestionWords | None] | None = None
    ) -> answer.Features:
        """`words`: the question's words weighed per edition, kept across the rows of one question."""
        lang = self._langs[row]
        words = {} if words is None else words
        if lang not in words:
            words[lang] = answer.question_words(q.tokens, *self._idf_by_language[lang])
        return answer.passage_features(
            cosine,
            q.cjk,
            words[lang],
            self._passage_tokens[row],
            q.alternatives,
            answer.scope_from_margins(*q.scope_margins, cosine, self._chance),
            q.scope_zh,
        )

    def _chance_level(self) -> float:
        """How close this site's passages come to everyday topics it is not about (answer.chance_level),
        among the passages the embedding model reads; -1 (no level) for a site without them."""
        best = []
        for topic in answer.everyday_topics():
            found = self.stored.search(self.embedder.encode_query(topic), 10)
            best.extend(next(([v] for r, v in found if self._langs[r] in self.settings.dense_languages), []))
        return answer.chance_level(best) if best else -1.0

    def _rows_with(self, tags: frozenset[str]) -> np.ndarray:
        """A boolean mask of the rows carrying any of `tags`."""
        return np.fromiter((not labels.isdisjoint(tags) for labels in self._labels), bool, len(self._labels))

    def _answer(
        self, query_vector: np.ndarray, query_tokens: set[str], hits: list[Hit], lang: str = language.DEFAULT_LANGUAGE
    ) -> Answer | None:
        if not hits or hits[0].answer_score < self.settings.min_answer_score:
            return None
        # Answer in the question's language whenever a passage in that language answers it, even
        # when a passage of the other edition ranks first.
        position = next(
            (i for i, h in enumerate(hits) if h.lang == lang and h.answer_score >= self.settings.min_answer_score),
            0,
        )
        best = hits[position]
        row = self._rows[best.chunk.id]
        extras = self.stored.extras
        # Every sentence's vector is stored with the version (pooled from its passage's token vectors
        # at build time), so choosing the answer sentence needs no model call on any site.
        ids = self._sentences.get(row, [])
        sentences = [extras.sentence_texts[i] for i in ids]
        vectors = (
            extras.sentence_vectors[ids].astype(np.float32)
            if extras.sentence_vectors is not None
            else np.zeros((len(ids), len(query_vector)), np.float32)
        )
        overlaps = [len(query_tokens & words) / max(len(query_tokens), 1) for words in self._sentence_words(row)]
        text = pick_sentences(sentences, vectors, query_vector, overlaps, self.settings.answer_sentences)
        return Answer(as_in_passage(text, best.chunk.text), position, best.confidence)

    @functools.lru_cache(maxsize=SENTENCE_WORDS_PASSAGES)  # noqa: B019 (the searcher lives as long as its version)
    def _sentence_words(self, row: int) -> list[frozenset[str]]:
        """The words of each sentence of a passage, tokenised once: tokenising an answer passage's
        sentences took ~4 of the ~13 tokenize calls of an answered question (jieba for Chinese)."""
        return [frozenset(tokenize(self.stored.extras.sentence_texts[i])) for i in self._sentences.get(row, [])]

    @functools.cached_property
    def _rows(self) -> dict[str, int]:
        return {c.id: i for i, c in enumerate(self.stored.chunks)}


def with_site_weights(settings: SearchSettings, version_dir: Path) -> SearchSettings:
    """settings with each fusion weight it leaves unset taken from the site the version was built
    from (its site.json, written by the build and checked against the manifest), else the default."""
    site = (read_site_json(version_dir) or {}).get("search") or {}  # none: a version built before site files
    return dataclasses.replace(
        settings,
        dense_weight=_first_set(settings.dense_weight, site.get("dense_weight"), DENSE_WEIGHT),
        lexical_weight=_first_set(settings.lexical_weight, site.get("lexical_weight"), LEXICAL_WEIGHT),
    )


def _first_set(*values: float | None) -> float:
    return next(float(v) for v in values if v is not None)


def _scope_vectors(stored: StoredIndex, embedder: Embedder) -> tuple[np.ndarray | None, np.ndarray]:
    """What the corpus answers (None without a scope file) and what it does not (the scope file's
    list, else Beacon's generic off-topic kinds: answer.GENERIC_OFF_TOPIC), as vectors. Encoded as
    questions are (the same encoder), since they are compared with questions."""

    def encode(texts) -> np.ndarray:
        return np.stack([embedder.encode_query(t) for t in texts])

    scope = stored.extras.scope
    if scope:
        return encode(scope.answers), encode(scope.does_not_answer)
    return None, encode(answer.GENERIC_OFF_TOPIC)


def _lexical_scope_words(scope: Scope, passages: list[set[str]]) -> tuple[set[str], set[str]]:
    """The words of a translated scope (answer.lexical_scope_score): those of its 'answers'
    descriptions, and those of its 'does_not_answer' ones that none of `passages` (the edition in
    that language) uses. A guide to hospitals' patient groups says 医生, 医院, 治疗 and 检查结果
    itself, so a question saying them is no less in scope; 剂量, 副作用 and 多少钱 it never says.
    Measured on the tuning questions (docs/quality.md): keeping every word, the answer model's
    10-fold cross-validated log-loss was 0.146 instead of 0.132."""
    if not scope:
        return set(), set()
    used = set().union(*passages)
    return (
        set().union(*(cjk_words(tokenize(t)) for t in scope.answers)),
        set().union(*(cjk_words(tokenize(t)) for t in scope.does_not_answer)) - used,
    )


def link_to_answer(hits: list[Hit], found: Answer | None) -> list[Hit]:
    """The answered passage links to the last target before its answer (Chunk.targets): a passage
    holding several API entries sends the reader to the entry the answer comes from."""
    if found is None or not hits[found.result].chunk.targets:
        return hits
    hit = hits[found.result]
    span = find_answer(found.text, hit.chunk.text)
    if span is None:
        return hits
    at = solid_length(hit.chunk.text[: span[0]])
    target = next((t for offset, t in reversed(hit.chunk.targets) if offset <= at), hit.chunk.target)
    linked = dataclasses.replace(hit, chunk=dataclasses.replace(hit.chunk, target=target))
    return [linked if i == found.result else h for i, h in enumerate(hits)]


def as_in_passage(answer_text: str, passage: str) -> str:
    """The answer as it is written in the passage (line breaks included), so it can be found there."""
    span = find_answer(answer_text, passage)
    return passage[span[0] : span[1]] if span else answer_text


_SPACE = re.compile(r"\s*")


def find_answer(answer: str, passage: str) -> tuple[int, int] | None:
    """ingest.text.find_in_passage, the one rule for where an answer stands in its passage, without
    compiling a pattern per answer: every answer is new text, and compiling its pattern took ~2 ms
    (tests/index/test_find_answer.py holds the two to the same spans). The words must follow each
    other with only white space between, and a word never starts with white space, so at each place
    the first word stands there is exactly one way to match; the first place that matches wins."""
    words = answer.split()
    if not words:
        return None
    first, start = words[0], passage.find(words[0])
    while start >= 0:
        end = start + len(first)
        for word in words[1:]:
            end = _SPACE.match(passage, end).end()
            if not passage.startswith(word, end):
                break
            end += len(word)
        else:
            return start, end
        start = passage.find(first, start + 1)
    return None


def filter_labels(chunk: Chunk) -> frozenset[str]:
    """What a passage can be filtered by: its document's tags and its top-level folder (online/...)."""
    folder = chunk.doc_id.split("/", 1)[0] if "/" in chunk.doc_id else None
    return frozenset(t.lower() for t in chunk.tags) | ({folder.lower()} if folder else frozenset())


def open_searcher(index_dir: Path, embedder: Embedder, settings: SearchSettings = SearchSettings()) -> Searcher:
    """A Searcher over the live version of an index folder."""
    return Searcher(load_live(index_dir), embedder, settings)
