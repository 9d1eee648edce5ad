"""The obvious path, for comparison: sentence-transformers on torch per request + an exact FAISS scan.

BENCH_INDEX_DIR=.beacon/index uvicorn --factory --app-dir bench naive_app:create_app
"""

from __future__ import annotations

import os

import faiss
from common import embedding_text, live_chunks
from fastapi import FastAPI

from index.embedder import resolve_model


def create_app() -> FastAPI:
    # A factory, so importing this module (tests/test_bench_imports.py) loads no model.
    from sentence_transformers import SentenceTransformer

    chunks = live_chunks(os.environ.get("BENCH_INDEX_DIR", ".beacon/index"))
    model = SentenceTransformer(resolve_model("all-MiniLM-L6-v2")[0], device="cpu")
    vectors = model.encode([embedding_text(c) for c in chunks], normalize_embeddings=True)
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)
    app = FastAPI()

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    @app.get("/api/search")
    def search(q: str, k: int = 5):
        vector = model.encode([q], normalize_embeddings=True)
        scores, rows = index.search(vector, k)
        return {
            "query": q,
            "results": [
                {"id": chunks[r]["id"], "title": chunks[r]["title"], "text": chunks[r]["text"], "score": float(s)}
                for r, s in zip(rows[0], scores[0])
                if r >= 0
            ],
        }

    return app
