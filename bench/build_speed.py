"""Index build speed: chunks/s embedded by each backend, a full build, and the rebuild after a one-file edit.

python bench/build_speed.py
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from index import Embedder, build_index  # noqa: E402
from ingest import chunk_documents, load_corpus  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    rows = []
    for backend in ("torch", "onnx", "onnx-int8"):
        embedder = Embedder(backend=backend, threads=0)
        texts = [
            c.embedding_text()
            for c in chunk_documents(load_corpus(ROOT / "corpus"), embedder.max_tokens, embedder.count_tokens)
        ]
        embedder.encode(texts[:8])
        started = time.perf_counter()
        for _ in range(3):
            embedder.encode(texts)
        rate = 3 * len(texts) / (time.perf_counter() - started)
        rows.append((backend, len(texts), rate))
        print(f"{backend}: {rate:.0f} chunks/s over {len(texts)} chunks", flush=True)

    embedder = Embedder(backend="onnx", threads=0)
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus"
        shutil.copytree(ROOT / "corpus", corpus)
        index = Path(tmp) / "index"
        full = build_index(corpus, index, embedder)
        target = sorted(corpus.rglob("*.md"))[-1]
        target.write_text(
            target.read_text(encoding="utf-8") + "\nOne more sentence added by the bench.\n", encoding="utf-8"
        )
        edit = build_index(corpus, index, embedder)
        same = build_index(corpus, index, embedder)
    print("\n| backend | chunks | chunks/s (documents, all cores) |\n|---|---|---|")
    for backend, n, rate in rows:
        print(f"| {backend} | {n} | {rate:.0f} |")
    print("\n| build (onnx) | seconds | chunks embedded |\n|---|---|---|")
    print(f"| full build, empty cache | {full.seconds:.2f} | {full.embedded} |")
    print(f"| after editing one file ({target.relative_to(corpus)}) | {edit.seconds:.2f} | {edit.embedded} |")
    print(f"| nothing changed | {same.seconds:.2f} | {same.embedded} |")


if __name__ == "__main__":
    main()
