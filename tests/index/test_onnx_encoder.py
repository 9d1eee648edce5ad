"""The ONNX encoder runs the same model as sentence-transformers on torch, so their vectors agree."""

from __future__ import annotations

import httpx
import numpy as np
import pytest

from tests.helpers import DEFAULT_CORPUS, LiveServer, make_settings

pytestmark = pytest.mark.server  # starts real uvicorn servers

SENTENCES = [
    "where can I talk to people about I-131",
    "小红书 甲状腺癌日记",
    "Large hospitals hold rehabilitation lectures where you can meet local patients in person.",
    "Patients post I-131 radioactive iodine therapy diaries and surgery stories. Doctors answer questions online.",
]


@pytest.fixture(scope="module")
def torch_embedder():
    from index import Embedder

    return Embedder(backend="torch")


def test_onnx_vectors_agree_with_torch(embedder, torch_embedder):
    assert embedder.backend == "onnx"
    onnx, torch = embedder.encode(SENTENCES), torch_embedder.encode(SENTENCES)
    assert onnx.shape == torch.shape == (len(SENTENCES), 384)
    assert np.allclose(np.linalg.norm(onnx, axis=1), 1.0, atol=1e-4)
    assert (onnx * torch).sum(axis=1).min() >= 0.99
    query = embedder.encode_query(SENTENCES[0])
    assert float(query @ torch[0]) >= 0.99


def test_onnx_counts_tokens_like_torch(embedder, torch_embedder):
    from ingest import chunk_documents, load_corpus

    chunks = chunk_documents(load_corpus(DEFAULT_CORPUS), torch_embedder.max_tokens, torch_embedder.count_tokens)
    texts = [c.embedding_text() for c in chunks[:8]] + SENTENCES
    assert [embedder.count_tokens(t) for t in texts] == [torch_embedder.count_tokens(t) for t in texts]
    assert embedder.max_tokens == torch_embedder.max_tokens


def test_a_model_folder_saved_by_todays_sentence_transformers_runs_on_onnx(embedder, tmp_path):
    """A fine-tuned model saved now has no max_seq_length in sentence_bert_config.json (the tokenizer
    carries it); it must still get the ONNX encoder, with the same window, not fall back to torch."""
    from sentence_transformers import SentenceTransformer

    from index import Embedder
    from index.embedder import resolve_model

    folder = tmp_path / "saved"
    SentenceTransformer(resolve_model("all-MiniLM-L6-v2")[0], device="cpu").save(str(folder))
    saved = Embedder(str(folder), cache_dir=tmp_path / "onnx")
    assert saved.backend == "onnx"
    assert saved.max_tokens == embedder.max_tokens == 256
    assert (saved.encode(SENTENCES) * embedder.encode(SENTENCES)).sum(axis=1).min() >= 0.99


def test_int8_queries_stay_close_to_fp32(embedder, tmp_path):
    from index import Embedder

    int8 = Embedder(backend="onnx-int8")
    vectors = embedder.encode(SENTENCES)
    for sentence, vector in zip(SENTENCES, vectors):
        assert float(int8.encode_query(sentence) @ vector) >= 0.97


def test_service_answers_with_the_onnx_backend(default_index):
    from service.app import create_app

    settings = make_settings(default_index, encoder="onnx", query_cache=0)
    with LiveServer(create_app(settings)) as server:
        for _ in range(2):  # no cache: both requests run the model
            body = httpx.get(
                server.url + "/api/search", params={"q": "radioactive iodine I-131 diaries"}, timeout=60
            ).json()
            assert body["results"] and body["answer"] is not None
        assert any("I-131" in r["text"] for r in body["results"])


def test_repeated_question_is_answered_from_the_cache_identically(client):
    first = client.get("/api/search", params={"q": "hospital patient education sessions"}).json()
    second = client.get("/api/search", params={"q": "hospital patient education sessions"}).json()
    first.pop("took_ms"), second.pop("took_ms")
    assert first == second and first["results"]


def test_unknown_encoder_setting_is_refused():
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        make_settings(DEFAULT_CORPUS, encoder="tensorflow")
