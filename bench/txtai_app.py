"""The peer: txtai hybrid search (dense + BM25, in process) with the same local model over the same chunks.

BENCH_INDEX_DIR=.beacon/index uvicorn --factory --app-dir bench txtai_app:create_app
"""

from __future__ import annotations

import os

from common import embedding_text, live_chunks
from fastapi import FastAPI

from index.embedder import resolve_model


def create_app() -> FastAPI:
    # txtai is imported here: it is only in the bench extra, and importing this module
    # (tests/test_bench_imports.py) must work without it and load no model.
    from txtai import Embeddings

    chunks = live_chunks(os.environ.get("BENCH_INDEX_DIR", ".beacon/index"))
    by_id = {c["id"]: c for c in chunks}
    embeddings = Embeddings(path=resolve_model("all-MiniLM-L6-v2")[0], hybrid=True, content=False)
    embeddings.index([(c["id"], embedding_text(c), None) for c in chunks])
    app = FastAPI()

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    @app.get("/api/search")
    def search(q: str, k: int = 5):
        return {
            "query": q,
            "results": [
                {"id": i, "title": by_id[i]["title"], "text": by_id[i]["text"], "score": float(s)}
                for i, s in embeddings.search(q, k)
            ],
        }

    return app
