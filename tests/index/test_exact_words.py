"""BM25 indexes stems alone, so a question's word finds every form of it ("caching" and "cache"). A
version built on 2026-12-03 (LEXICAL_VERSION 2) also indexed each word as written, so a passage with
the question's exact word outranked one with only its variants; such a version, and one built before
it, are searched as they were built (docs/quality.md, "A default fitted on four sites")."""

from __future__ import annotations

import json

import bm25s
import numpy as np

from index.lexical import EDITIONS, LexicalIndex, _written_forms, chunk_text, tokenize
from ingest import Chunk


def chunk(doc: str, text: str) -> Chunk:
    title = doc.title()
    return Chunk(id=f"{doc}#s", doc_id=doc, title=title, section=title, anchor="s", text=text, links=())


CHUNKS = [
    chunk(
        "views",
        "Decorate a view to cache its whole output for a while, keyed by the URL the view answers on "
        "and the headers it varies on.",
    ),
    # Stems alone rank this first (0.69 against 0.63): its "caching" and "cached" are all "cach".
    chunk("performance", "Caching views and whole pages: caching, cached pages."),
    chunk("email", "Send an email with an attachment."),
]
QUESTION = "how do I cache the whole view"


def _saved(tmp_path, bm25: bm25s.BM25, surface: bool, drop_flag: bool = False) -> LexicalIndex:
    rows = np.arange(len(CHUNKS), dtype=np.int64)
    LexicalIndex([("en", rows, bm25, "bigram", surface)], len(CHUNKS)).save(tmp_path / "lexical")
    if drop_flag:  # a version from before the flag existed
        editions = json.loads((tmp_path / "lexical" / EDITIONS).read_text())
        del editions["en"]["surface"]
        (tmp_path / "lexical" / EDITIONS).write_text(json.dumps(editions))
    return LexicalIndex.load(tmp_path / "lexical", len(CHUNKS))


def _stems_only() -> bm25s.BM25:
    bm25 = bm25s.BM25()
    bm25.index([tokenize(chunk_text(c), "bigram") for c in CHUNKS], show_progress=False)
    return bm25


def test_a_build_indexes_stems_so_every_form_of_a_word_is_found():
    built = LexicalIndex.build(CHUNKS)
    assert not any(word.startswith("=") for _, _, bm25, _, _ in built._editions for word in bm25.vocab_dict)
    scores = built.scores(QUESTION)
    assert scores[0] > 0 and scores[1] > 0 and scores[2] == 0
    stems_only = _stems_only()
    assert np.allclose(scores, stems_only.get_scores([t for t in tokenize(QUESTION) if t in stems_only.vocab_dict]))
    caches = built.scores("caches")
    assert caches[0] > 0 and caches[1] > 0


def test_a_version_built_with_written_words_is_searched_as_it_was_built(tmp_path):
    written = bm25s.BM25()
    written.index(
        [tokenize(chunk_text(c), "bigram") + _written_forms(chunk_text(c)) for c in CHUNKS], show_progress=False
    )
    old = _saved(tmp_path, written, surface=True)
    scores = old.scores(QUESTION)
    # There, the passage with the question's own word ranks above the one with only its variants.
    assert scores[0] > scores[1] > 0
    assert scores[2] == 0


def test_a_version_built_before_the_flag_scores_by_stems_as_it_was_built(tmp_path):
    stems_only = _stems_only()
    old = _saved(tmp_path, stems_only, surface=False, drop_flag=True)
    expected = stems_only.get_scores([t for t in tokenize(QUESTION) if t in stems_only.vocab_dict])
    assert np.allclose(old.scores(QUESTION), expected)


def test_a_build_survives_saving_and_loading(tmp_path):
    built = LexicalIndex.build(CHUNKS)
    built.save(tmp_path / "lexical")
    loaded = LexicalIndex.load(tmp_path / "lexical", len(CHUNKS))
    assert np.array_equal(loaded.scores(QUESTION), built.scores(QUESTION))
