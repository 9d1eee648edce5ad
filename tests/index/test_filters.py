"""The tag filter's dense half: FAISS skips rows outside the filter, for flat and HNSW indexes alike."""

from __future__ import annotations

import faiss
import numpy as np
import pytest

from index.store import search_faiss


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_dense_search_within_allowed_rows(kind):
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((500, 32)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = faiss.IndexFlatIP(32) if kind == "flat" else faiss.IndexHNSWFlat(32, 16, faiss.METRIC_INNER_PRODUCT)
    index.add(vectors)
    allowed = np.zeros(500, dtype=bool)
    allowed[::7] = True
    query = vectors[3]  # row 3 is outside the filter; its nearest allowed rows must come back instead
    found = search_faiss(index, query, 10, allowed)
    rows = [r for r, _ in found]
    assert len(rows) == 10 and all(allowed[r] for r in rows)
    exact = np.flatnonzero(allowed)[np.argsort(-(vectors[allowed] @ query))][:10]
    assert len(set(rows) & set(exact.tolist())) >= 9
    assert search_faiss(index, query, 10, np.zeros(500, dtype=bool)) == []
