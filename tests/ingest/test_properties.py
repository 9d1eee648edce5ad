"""Property tests for ingest and chunking: any text in, valid chunks out, nothing lost, ids stable and unique."""

from __future__ import annotations

import dataclasses
import re
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest import CorpusError, chunk_documents
from ingest.chunking import MIN_PASSAGE_TOKENS, chunk_document
from ingest.reader import read_document

_TOKEN = re.compile(r"[\u3000-\u9fff]|[^\s\u3000-\u9fff]+")


def cheap_count(text: str) -> int:
    """A stand-in tokenizer: each CJK character and each other non-space run is one token."""
    return len(_TOKEN.findall(text))


LATIN = st.text(alphabet=st.characters(min_codepoint=0x61, max_codepoint=0x7A), min_size=1, max_size=12)
CJK = st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x4FFF), min_size=1, max_size=6)
EMOJI = st.sampled_from(["🙂", "💊", "🏥", "👩‍⚕️", "❤️"])
PUNCT = st.sampled_from(
    [".", ",", "!", "?", "。", "，", "；", "：", "…", ";", ":", "-", "(I-131)", '."', ".)", "?”", '.")']
)
WORD = st.one_of(LATIN, LATIN, LATIN, CJK, EMOJI, PUNCT)
SENTENCE = st.lists(WORD, min_size=1, max_size=30).map(" ".join)
PARAGRAPH = st.lists(SENTENCE, min_size=1, max_size=8).map(" ".join)
HEADING = st.tuples(st.integers(1, 3), st.lists(st.one_of(LATIN, CJK), min_size=1, max_size=3).map(" ".join)).map(
    lambda h: "#" * h[0] + " " + h[1]
)
BLOCK = st.one_of(
    PARAGRAPH,
    PARAGRAPH,
    HEADING,
    st.lists(SENTENCE, min_size=1, max_size=4).map(lambda items: "\n".join(f"- {i}" for i in items)),
)
BODY = st.lists(BLOCK, min_size=1, max_size=12).map("\n\n".join)
TITLE = st.lists(st.one_of(LATIN, CJK), min_size=1, max_size=4).map(" ".join)


def read(title: str, body: str, suffix: str = ".md"):
    """Write one corpus file and read it back; a CorpusError is an acceptable answer, anything else is not."""
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp)
        path = corpus / f"doc{suffix}"
        text = f'---\ntitle: "{title}"\n---\n{body}\n' if suffix == ".md" else f"{title}\n\n{body}\n"
        path.write_text(text, encoding="utf-8")
        return read_document(path, corpus)


def squash(text: str) -> str:
    return "".join(text.split())


def check_chunks(doc, max_tokens: int, count) -> None:
    chunks = chunk_document(doc, max_tokens, count)
    ids = [c.id for c in chunks]
    assert len(ids) == len(set(ids)), ids
    assert ids == [c.id for c in chunk_document(doc, max_tokens, count)]  # stable
    for section in doc.sections:
        own = [c for c in chunks if c.anchor == section.anchor]
        assert own, f"section {section.anchor} produced no chunk"
        assert squash("".join(c.text for c in own)) == squash(section.text)  # nothing lost, nothing added
        spaced = " ".join(section.text.split())
        for c in own:  # and no two words glued together: each piece is a run of the section's text
            assert " ".join(c.text.split()) in spaced, (c.text, section.text)
        for c in own:
            assert c.text.strip() and c.doc_id == doc.doc_id and c.id.startswith(f"{doc.doc_id}#{section.anchor}")
            # The title and heading path are embedded with every piece. When they alone leave less
            # than MIN_PASSAGE_TOKENS of the window, pieces still get that many (the encoder then
            # truncates; the whole text stays in the lexical index), rather than one word each.
            head = count(dataclasses.replace(c, text="").embedding_text())
            assert count(c.embedding_text()) <= max(max_tokens, head + MIN_PASSAGE_TOKENS), (
                count(c.embedding_text()),
                c.text,
            )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(title=TITLE, body=BODY, max_tokens=st.integers(48, 256))
def test_any_markdown_gives_valid_chunks_and_loses_no_text(title, body, max_tokens):
    try:
        doc = read(title, body)
    except CorpusError:
        return  # e.g. a body of headings only: refused with a file and line, which is the contract
    check_chunks(doc, max_tokens, cheap_count)


@settings(max_examples=50, deadline=None)
@given(title=TITLE, body=BODY)
def test_any_plain_text_gives_valid_chunks(title, body):
    doc = read(title, body, suffix=".txt")
    check_chunks(doc, 64, cheap_count)


def lumpy_count(text: str) -> int:
    """A tokenizer whose counts do not add up across white space (a piece can count more than its
    texts did apart), so the chunker cannot plan pieces from each text's own count."""
    return len(text) // 10 + 2


@settings(max_examples=60, deadline=None)
@given(title=TITLE, body=BODY, max_tokens=st.integers(24, 64))
def test_chunks_fit_a_tokenizer_whose_counts_do_not_add_up(title, body, max_tokens):
    try:
        doc = read(title, body)
    except CorpusError:
        return
    check_chunks(doc, max_tokens, lumpy_count)


@settings(max_examples=100, deadline=None)
@given(text=st.text(max_size=400))
def test_arbitrary_unicode_is_read_or_refused_with_a_corpus_error(text):
    try:
        doc = read("T", text)
    except CorpusError as e:
        assert e.path.endswith("doc.md")
        return
    chunks = chunk_documents([doc], 64, cheap_count)
    assert len({c.id for c in chunks}) == len(chunks)


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(title=TITLE, body=st.lists(PARAGRAPH, min_size=3, max_size=10).map("\n\n".join))
def test_chunks_fit_the_real_tokenizer(embedder, title, body):
    doc = read(title, "## Part\n\n" + body)
    check_chunks(doc, embedder.max_tokens, embedder.count_tokens)
