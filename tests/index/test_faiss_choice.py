"""Above the flat-scan size the index becomes HNSW, loads memory-mapped and still finds the right rows."""

from __future__ import annotations

import faiss
import numpy as np

from index.store import FLAT_MAX_ROWS, load_faiss_index, make_faiss_index


def _vectors(n: int) -> np.ndarray:
    rng = np.random.default_rng(3)
    centres = rng.standard_normal((200, 384), dtype=np.float32)
    x = centres[rng.integers(0, 200, n)] + 0.9 * rng.standard_normal((n, 384), dtype=np.float32)
    faiss.normalize_L2(x)
    return x


def test_small_corpus_gets_exact_search():
    assert isinstance(make_faiss_index(_vectors(100)), faiss.IndexFlatIP)


def test_large_corpus_gets_hnsw_that_loads_mmapped_and_finds_each_vector(tmp_path):
    vectors = _vectors(FLAT_MAX_ROWS + 1000)
    index = make_faiss_index(vectors)
    assert isinstance(index, faiss.IndexHNSWFlat)
    path = tmp_path / "vectors.faiss"
    faiss.write_index(index, str(path))
    # Files up to IN_MEMORY_MAX_BYTES (256 MiB) are read into memory since issue 15; a threshold
    # of 0 takes the path every larger index takes.
    assert load_faiss_index(path)[1] == "memory"
    loaded, how = load_faiss_index(path, in_memory_max_bytes=0)
    assert how == "mmap" and loaded.ntotal == len(vectors)
    probe = np.arange(0, len(vectors), 997)
    _, rows = loaded.search(vectors[probe], 1)
    assert (rows[:, 0] == probe).mean() >= 0.95
