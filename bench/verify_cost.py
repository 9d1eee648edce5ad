"""What checking every file's SHA-256 costs when a version loads: the default index and a synthetic
10k-chunk one (random vectors, so the flat index is the size a real 10k-chunk corpus gives).

    python bench/verify_cost.py [--index .beacon/index] [--rows 10000]
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from index.publish import current_dir
from index.store import (
    VECTORS,
    Manifest,
    file_hashes,
    load_version,
    make_faiss_index,
    read_manifest,
    save_version,
    write_documents,
)


def synthetic(directory: Path, rows: int) -> Path:
    from index.lexical import LexicalIndex
    from ingest import Chunk, Document  # noqa: F401

    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((rows, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    words = ["thyroid", "support", "group", "iodine", "surgery", "diet", "forum", "doctor", "app", "patients"]
    chunks = [
        Chunk(
            id=f"d{i // 10}#s{i % 10}",
            doc_id=f"d{i // 10}",
            title=f"Doc {i // 10}",
            section=f"S {i % 10}",
            anchor=f"s{i % 10}",
            text=" ".join(rng.choice(words, 60)),
            links=(),
        )
        for i in range(rows)
    ]
    manifest = Manifest(
        1,
        "vbench",
        "all-MiniLM-L6-v2",
        "x",
        384,
        256,
        "x",
        rows,
        rows // 10,
        "IndexFlatIP",
        "2026-01-01T00:00:00",
        0.0,
        {},
    )
    write_documents(directory, [])
    save_version(directory, manifest, make_faiss_index(vectors), LexicalIndex.build(chunks), chunks)
    return directory


def timed(fn, n: int = 7) -> float:
    times = []
    for _ in range(n):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def report(name: str, version: Path) -> None:
    manifest = read_manifest(version)
    size = sum(p.stat().st_size for p in version.rglob("*") if p.is_file())
    hashing = timed(lambda: file_hashes(version))
    verified = timed(lambda: load_version(version))
    unverified = dataclasses.replace(manifest, files={})
    # Load without hashes: the manifest as a version built before them would have it.
    from index import store

    original = store.read_manifest
    store.read_manifest = lambda d: unverified
    try:
        plain = timed(lambda: load_version(version))
    finally:
        store.read_manifest = original
    print(
        f"{name}: {manifest.chunk_count} chunks, {size / 2**20:.1f} MiB ({(version / VECTORS).stat().st_size / 2**20:.1f} "
        f"MiB vectors); hash all files {hashing:.1f} ms; load verified {verified:.1f} ms vs unverified {plain:.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=Path(".beacon/index"))
    parser.add_argument("--rows", type=int, default=10_000)
    args = parser.parse_args()
    report("default corpus", current_dir(args.index))
    with tempfile.TemporaryDirectory() as tmp:
        report("synthetic", synthetic(Path(tmp) / "v", args.rows))


if __name__ == "__main__":
    main()
