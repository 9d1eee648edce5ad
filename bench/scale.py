"""Scale test: exact vs approximate FAISS indexes over synthetic 384-d vectors (default 1,000,000).

Vectors are drawn from a mixture of Gaussian clusters and L2-normalised, so they cluster like
real sentence embeddings rather than spreading as uniform noise; queries come from the same
mixture but are not in the index. Reports build time, memory, p50/p99 latency of one query at a
time (one thread, as a worker serves it) and recall@10 against exact search, then checks that
Beacon's chosen index loads memory-mapped. Nothing is written to the repository.

    python bench/scale.py [--n 1000000] [--queries 200]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import faiss
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from index.store import HNSW_EF_SEARCH, load_faiss_index, make_faiss_index  # noqa: E402

DIM = 384
# Sentence embeddings vary along far fewer directions than their 384 dimensions, so each point is
# a cluster centre plus variation in a shared 32-d subspace plus a little full-rank noise. With
# tight isotropic clusters every IVF setting reached recall 1.0 (flattering); with wide isotropic
# ones (full 384-d noise, no structure) nothing reached 0.95 under 5 ms (docs/performance.md).
SUBSPACE = 32
SPREAD = 1.0
NOISE = 0.25


def synthetic(n: int, clusters: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, DIM), dtype=np.float32)
    basis = np.linalg.qr(rng.standard_normal((DIM, SUBSPACE)))[0].T.astype(np.float32) * np.sqrt(DIM / SUBSPACE)
    rng = np.random.default_rng(seed + n)  # queries share the centres, not the points
    out = np.empty((n, DIM), np.float32)
    step = 100_000
    for start in range(0, n, step):
        m = min(step, n - start)
        which = rng.integers(0, clusters, m)
        out[start : start + m] = (
            centres[which]
            + SPREAD * rng.standard_normal((m, SUBSPACE), dtype=np.float32) @ basis
            + NOISE * rng.standard_normal((m, DIM), dtype=np.float32)
        )
    faiss.normalize_L2(out)
    return out


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def timed_search(index: faiss.Index, queries: np.ndarray, k: int = 10) -> tuple[np.ndarray, float, float]:
    rows, times = [], []
    for q in queries:
        t = time.perf_counter()
        _, r = index.search(q.reshape(1, -1), k)
        times.append((time.perf_counter() - t) * 1000)
        rows.append(r[0])
    return np.array(rows), float(np.percentile(times, 50)), float(np.percentile(times, 99))


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(set(f) & set(t)) / len(t) for f, t in zip(found, truth)]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--no-ivf", action="store_true", help="skip the IVF comparison (its k-means takes minutes)")
    args = parser.parse_args()
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    t = time.perf_counter()
    data = synthetic(args.n, clusters=max(10, args.n // 100), seed=1)
    queries = synthetic(args.queries, clusters=max(10, args.n // 100), seed=1)  # same centres
    print(
        f"generated {args.n:,} x {DIM} vectors in {time.perf_counter() - t:.1f}s ({data.nbytes / 2**20:.0f} MiB)",
        flush=True,
    )

    flat = faiss.IndexFlatIP(DIM)
    flat.add(data)
    faiss.omp_set_num_threads(1)
    truth, p50, p99 = timed_search(flat, queries)
    rows = [("Flat (exact)", 0.0, flat.ntotal * DIM * 4 / 2**20, p50, p99, 1.0)]
    print(rows[-1], flush=True)

    faiss.omp_set_num_threads(os.cpu_count() or 1)
    t = time.perf_counter()
    nlist = int(4 * np.sqrt(args.n))
    ivf_nprobes = () if args.no_ivf else (16, 64, 128, 256)
    if args.no_ivf:
        nlist = 1
    ivf = faiss.IndexIVFFlat(faiss.IndexFlatIP(DIM), DIM, nlist, faiss.METRIC_INNER_PRODUCT)
    ivf.train(data[np.random.default_rng(0).choice(args.n, min(args.n, 40 * nlist), replace=False)])
    ivf.add(data)
    build = time.perf_counter() - t
    faiss.omp_set_num_threads(1)
    for nprobe in ivf_nprobes:
        ivf.nprobe = nprobe
        found, p50, p99 = timed_search(ivf, queries)
        rows.append(
            (
                f"IVFFlat nlist={nlist} nprobe={nprobe}",
                build,
                ivf.ntotal * (DIM * 4 + 8) / 2**20,
                p50,
                p99,
                recall(found, truth),
            )
        )
        print(rows[-1], flush=True)
    del ivf

    faiss.omp_set_num_threads(os.cpu_count() or 1)
    t = time.perf_counter()
    hnsw = make_faiss_index(data)  # what Beacon builds at this size
    build = time.perf_counter() - t
    faiss.omp_set_num_threads(1)
    for ef in (64, 128, 256):
        hnsw.hnsw.efSearch = ef
        found, p50, p99 = timed_search(hnsw, queries)
        rows.append(
            (
                f"HNSWFlat M={hnsw.hnsw.nb_neighbors(1)} efConstruction={hnsw.hnsw.efConstruction} efSearch={ef}",
                build,
                args.n * (DIM * 4 + hnsw.hnsw.nb_neighbors(0) * 4 * 1.05) / 2**20,
                p50,
                p99,
                recall(found, truth),
            )
        )
        print(rows[-1], flush=True)
    hnsw.hnsw.efSearch = HNSW_EF_SEARCH

    print(f"\n| index ({args.n:,} vectors unless noted) | build s | memory MiB | p50 ms | p99 ms | recall@10 |")
    print("|---|---|---|---|---|---|")
    for name, build, mem, p50, p99, rec in rows:
        print(f"| {name} | {build:.0f} | {mem:.0f} | {p50:.2f} | {p99:.2f} | {rec:.3f} |")

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "vectors.faiss"
        faiss.write_index(hnsw, str(path))
        del hnsw, flat, data
        before = rss_mb()
        t = time.perf_counter()
        loaded, how = load_faiss_index(path)
        print(
            f"\nBeacon's loader: {type(loaded).__name__} via {how} in {time.perf_counter() - t:.2f}s, "
            f"resident memory +{rss_mb() - before:.0f} MiB for a {path.stat().st_size / 2**20:.0f} MiB file "
            f"(peak RSS of this run {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB)"
        )


if __name__ == "__main__":
    main()
