"""Weight-only int8 (onnxruntime's MatMulNBits) against fp32 and today's dynamic int8: closeness and speed.

python bench/int8_weight_only.py [--passages N]      (needs pip install -e '.[quantize]')

Dynamic int8 (`onnx-int8`) rounds every MatMul's activations to int8 per tensor at run time, and that
is where its error comes from (docs/performance.md, "Why int8 loses the blind question"). Weight-only
quantisation keeps activations in fp32 (accuracy level 0) or rounds them per block of the inner
dimension (level 4, int8 dot products): much closer to fp32. This measures whether it is also faster.
For each variant of the query and passage graph: cosine to fp32 over the question sets' questions and
the Rust book's passages (mean, min), the median single-thread encode of one question, and passages per
second through Beacon's build encoder (every core, batches of 8, length-sorted), one variant after the
other in one run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from index import Embedder  # noqa: E402
from index.embedder import resolve_model  # noqa: E402
from index.evaluate import DEFAULT_QUESTION_FILES, load_questions  # noqa: E402
from index.onnx_encoder import OnnxEncoder, default_cache_dir, export  # noqa: E402

# (bits, block size, accuracy level): level 0 computes in fp32 from the unpacked weights, level 4 in int8.
WEIGHT_ONLY = [(8, 32, 0), (8, 32, 4), (8, 64, 4), (8, 128, 4), (4, 32, 4)]


def variants(folder: Path) -> dict[str, Path]:
    import onnx
    from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

    location, sha = resolve_model("all-MiniLM-L6-v2")
    fp32 = export(location, sha, default_cache_dir(), quantize=False)
    out = {"fp32": fp32, "dynamic int8 (onnx-int8)": export(location, sha, default_cache_dir(), quantize=True)}
    for bits, block, level in WEIGHT_ONLY:
        path = folder / f"w{bits}-b{block}-a{level}.onnx"
        quantizer = MatMulNBitsQuantizer(
            onnx.load(str(fp32)), bits=bits, block_size=block, is_symmetric=True, accuracy_level=level
        )
        quantizer.process()
        quantizer.model.save_model_to_file(str(path), False)
        out[f"weight-only int{bits}, block {block}, level {level}"] = path
    return out


def passages(n: int, embedder: Embedder) -> list[str]:
    """The first n passages of a site nobody here wrote (build_speed.py's: the Rust book), as a build cuts them."""
    from build_speed import find_site

    from ingest.chunking import chunk_documents
    from ingest.reader import read_corpus
    from ingest.site import load_site

    site_dir, settings = find_site()
    with tempfile.TemporaryDirectory() as tmp:
        site_file = Path(tmp) / "site.toml"
        site_file.write_text(settings, encoding="utf-8")
        docs, _ = read_corpus(site_dir, load_site(site_dir, site_file))
    chunks = chunk_documents(docs, embedder.max_tokens, embedder.count_tokens)
    return [c.embedding_text() for c in chunks[:n]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=200)
    args = parser.parse_args()
    location, _ = resolve_model("all-MiniLM-L6-v2")
    questions = [q.q for f in DEFAULT_QUESTION_FILES for q in load_questions(f)]
    texts = passages(args.passages, Embedder(threads=1))
    print(f"{len(questions)} questions, {len(texts)} passages", flush=True)
    rows, reference = [], None
    with tempfile.TemporaryDirectory() as tmp:
        for name, path in variants(Path(tmp)).items():
            one = OnnxEncoder(location, path, 256, threads=1)
            for q in questions[:10]:
                one.encode([q])
            times, query_vectors = [], []
            for q in questions:
                started = time.perf_counter()
                query_vectors.append(one.encode([q])[0])
                times.append(time.perf_counter() - started)
            build = Embedder(threads=0)  # the build's batches and lanes, with this variant's graph
            build._docs = build._queries = OnnxEncoder(location, path, 256, threads=1)
            started = time.perf_counter()
            passage_vectors = build.encode(texts)
            rate = len(texts) / (time.perf_counter() - started)
            if reference is None:
                reference = (np.array(query_vectors), passage_vectors)
            cq = (np.array(query_vectors) * reference[0]).sum(1)
            cd = (passage_vectors * reference[1]).sum(1)
            rows.append((name, statistics.median(times) * 1000, rate, cq, cd))
            print(f"{name}: done", flush=True)
    base_ms, base_rate = rows[0][1], rows[0][2]
    print(
        "\n| variant | question ms (x fp32) | passages/s (x fp32) | cosine to fp32, questions mean / min |"
        " passages mean / min |\n|---|---|---|---|---|"
    )
    for name, ms, rate, cq, cd in rows:
        print(
            f"| {name} | {ms:.2f} ({base_ms / ms:.2f}x) | {rate:.1f} ({rate / base_rate:.2f}x) | "
            f"{cq.mean():.5f} / {cq.min():.5f} | {cd.mean():.5f} / {cd.min():.5f} |"
        )


if __name__ == "__main__":
    main()
