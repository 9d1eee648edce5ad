"""Answer sentences' vectors come from their passage's one model pass (token vectors pooled per sentence)."""

from __future__ import annotations

import numpy as np
import pytest

from index import build_index, open_searcher
from index.embedder import sentence_spans
from ingest.text import split_sentences

PASSAGE = (
    "Care notes: Cats purr when they are content. The stock market fell sharply today. "
    "Python lists are mutable sequences."
)


def _spans(text: str) -> tuple[list[str], list[tuple[int, int]]]:
    sentences = split_sentences(text)
    return sentences, sentence_spans(text, sentences)


def test_one_pass_gives_the_passage_vector_and_one_vector_per_sentence(embedder):
    sentences, spans = _spans(PASSAGE)
    vectors, pooled, extra = embedder.encode_passages([PASSAGE], [spans])
    assert extra == 0
    np.testing.assert_allclose(vectors[0], embedder.encode([PASSAGE])[0], atol=1e-5)
    assert pooled[0].shape == (len(sentences), embedder.dimension)
    np.testing.assert_allclose(np.linalg.norm(pooled[0], axis=1), 1.0, atol=1e-5)
    # Each pooled sentence is closest to the same sentence encoded alone: the spans hit their own tokens.
    alone = embedder.encode(sentences)
    assert list(np.argmax(pooled[0] @ alone.T, axis=1)) == list(range(len(sentences)))


def test_a_build_on_every_core_gives_each_passage_its_own_vectors(embedder):
    """threads=0 (beacon build) encodes batches side by side: each row must still get its own text's vectors."""
    from index import Embedder

    lanes = Embedder(threads=0)
    if lanes._lanes is None:
        pytest.skip("one core: no batches side by side")
    # Lengths out of order and more texts than one batch, so batches are sorted, split and run at once.
    texts = [f"{PASSAGE} " * (1 + (i * 7) % 5) + f"Passage number {i} is about topic {i % 3}." for i in range(40)]
    spans = [_spans(t)[1] for t in texts]
    vectors, pooled, _ = lanes.encode_passages(texts, spans)
    one_vectors, one_pooled, _ = embedder.encode_passages(texts, spans)
    np.testing.assert_allclose(vectors, one_vectors, atol=1e-5)
    for a, b in zip(pooled, one_pooled):
        np.testing.assert_allclose(a, b, atol=1e-5)
    np.testing.assert_allclose(lanes.encode(texts), embedder.encode(texts), atol=1e-5)


def test_a_build_streams_batches_in_its_own_order_with_the_same_vectors(embedder):
    """stream_passages (what a build reads) yields each text once, batch by batch in the order given,
    with encode_passages' vectors; a sentence past the window is encoded alone there too."""
    from index import Embedder

    lanes = Embedder(threads=0)
    long = "Filler words go here. " * 120 + "The last sentence is about thyroid groups."
    texts = [f"{PASSAGE} " * (1 + (i * 7) % 5) + f"Passage number {i} is about topic {i % 3}." for i in range(30)]
    texts.insert(17, long)
    spans = [_spans(t)[1] for t in texts]
    vectors, pooled, extra = embedder.encode_passages(texts, spans)
    for streamer in (embedder, lanes):
        seen, streamed_extra = [], 0
        for rows, batch_vectors, batch_pooled, alone in streamer.stream_passages(texts, spans):
            assert rows == list(range(len(seen), len(seen) + len(rows)))  # in order, none skipped
            seen.extend(rows)
            streamed_extra += alone
            np.testing.assert_allclose(batch_vectors, vectors[rows], atol=1e-5)
            for row, p in zip(rows, batch_pooled):
                np.testing.assert_allclose(p, pooled[row], atol=1e-5)
        assert seen == list(range(len(texts))) and streamed_extra == extra >= 1


def test_a_sentence_past_the_model_window_is_encoded_on_its_own(embedder):
    text = "Filler words go here. " * 120 + "The last sentence is about thyroid groups."
    sentences, spans = _spans(text)
    _, pooled, extra = embedder.encode_passages([text], [spans])
    assert extra >= 1
    np.testing.assert_allclose(pooled[0][-1], embedder.encode([sentences[-1]])[0], atol=1e-5)


def test_spans_follow_the_heading_the_model_reads_first():
    text = "First one. Second one! 第三句。"
    sentences = split_sentences(text)
    head = "Title — Section: "
    spans = sentence_spans(text, sentences, len(head))
    assert [(head + text)[a:b] for a, b in spans] == sentences


def test_every_sentence_is_stored_and_answering_runs_the_model_only_on_the_question(
    tiny_corpus, tmp_path, embedder, monkeypatch
):
    build_index(tiny_corpus, tmp_path / "idx", embedder)
    searcher = open_searcher(tmp_path / "idx", embedder)
    extras = searcher.stored.extras
    assert extras.sentence_texts == [s for c in searcher.stored.chunks for s in split_sentences(c.text)]
    assert extras.sentence_vectors.shape == (len(extras.sentence_texts), embedder.dimension)
    calls = []
    for name in ("encode", "encode_passages"):
        real = getattr(embedder, name)
        monkeypatch.setattr(
            embedder, name, lambda *a, _real=real, _name=name, **k: calls.append(_name) or _real(*a, **k)
        )
    result = searcher.search("where can I talk to people about I-131", 5)
    assert result.answer is not None and "I-131" in result.answer.text
    assert calls == []  # only encode_query ran


@pytest.mark.model
def test_torch_and_onnx_pool_the_same_sentence_vectors(embedder):
    from index import Embedder

    torch_embedder = Embedder(backend="torch")
    sentences, spans = _spans(PASSAGE)
    onnx_vectors, onnx_pooled, _ = embedder.encode_passages([PASSAGE], [spans])
    torch_vectors, torch_pooled, _ = torch_embedder.encode_passages([PASSAGE], [spans])
    assert np.min(np.sum(onnx_vectors * torch_vectors, axis=1)) > 0.9999
    assert np.min(np.sum(onnx_pooled[0] * torch_pooled[0], axis=1)) > 0.9999
