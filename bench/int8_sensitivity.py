"""Which int8 MatMuls cost answer quality: query vectors from variants of the int8 model against fp32.

python bench/int8_sensitivity.py

The query encoder of `onnx-int8` quantises every MatMul weight per channel (index/onnx_encoder.py).
Each variant here keeps some MatMuls in fp32; for each, over the default corpus's question sets:
the cosine of its query vectors to fp32's (mean, min), hybrid hit@1 per set and the questions
whose first document differs from fp32's, and the median single-thread encode time of a question.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from index import Embedder, build_index  # noqa: E402
from index.embedder import resolve_model  # noqa: E402
from index.evaluate import DEFAULT_QUESTION_FILES, evaluate, load_questions  # noqa: E402
from index.onnx_encoder import OnnxEncoder, default_cache_dir, export  # noqa: E402
from index.search import open_searcher  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
LAYERS = 6
VARIANTS = {
    "every MatMul (today)": [],
    "FFN output in fp32": [f"layer.{i}/output/dense/MatMul" for i in range(LAYERS)],
    "layer 0 in fp32": ["layer.0/"],
    "layer 5 in fp32": ["layer.5/"],
    "attention projections in fp32": [f"layer.{i}/attention/" for i in range(LAYERS)],
}


class QueriesThrough:
    """The real embedder, with its question vectors from another encoder (documents stay fp32)."""

    def __init__(self, embedder: Embedder, encoder: OnnxEncoder):
        self._embedder, self._encoder = embedder, encoder

    def encode_query(self, text: str) -> np.ndarray:
        return self._encoder.encode([text])[0]

    def __getattr__(self, name):
        return getattr(self._embedder, name)


def main() -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    embedder = Embedder(backend="onnx", threads=1)
    location, sha = resolve_model("all-MiniLM-L6-v2")
    fp32 = export(location, sha, default_cache_dir(), quantize=False)
    names = [n.name for n in onnx.load(str(fp32)).graph.node if n.op_type == "MatMul"]
    files = [ROOT / p for p in DEFAULT_QUESTION_FILES]
    sets = {f.name: load_questions(f) for f in files}
    questions = [q.q for qs in sets.values() for q in qs]
    with tempfile.TemporaryDirectory() as tmp:
        index = Path(tmp) / "index"
        build_index(ROOT / "corpus", index, embedder)
        base = open_searcher(index, embedder)
        reference = {name: evaluate(base, qs, "hybrid") for name, qs in sets.items()}
        base_vectors = np.stack([embedder.encode_query(q) for q in questions])
        print("| variant | MatMuls in int8 | cosine to fp32 mean / min | " + " | ".join(sets) + " | ms/query |")
        print("|---|---|---|" + "---|" * len(sets) + "---|")
        print(
            "| fp32 | 0 | 1 / 1 | "
            + " | ".join(f"{s.hit1:.3f}" for s in reference.values())
            + f" | {median_ms(embedder.encode_query, questions):.2f} |"
        )
        for label, patterns in VARIANTS.items():
            excluded = [n for n in names if any(p in n for p in patterns)]
            target = Path(tmp) / f"int8-{len(excluded)}-{abs(hash(label))}.onnx"
            quantize_dynamic(
                str(fp32),
                str(target),
                weight_type=QuantType.QInt8,
                op_types_to_quantize=["MatMul"],
                per_channel=True,
                nodes_to_exclude=excluded,
            )
            encoder = OnnxEncoder(location, target, embedder.max_tokens, threads=1)
            vectors = np.stack([encoder.encode([q])[0] for q in questions])
            cosines = np.sum(vectors * base_vectors, axis=1)
            searcher = open_searcher(index, QueriesThrough(embedder, encoder))
            cells, moved = [], []
            for name, qs in sets.items():
                scores = evaluate(searcher, qs, "hybrid")
                cells.append(f"{scores.hit1:.3f}")
                moved += [f"{name}: {m}" for m in set(scores.misses) ^ set(reference[name].misses)]
            print(
                f"| {label} | {len(names) - len(excluded)} | {cosines.mean():.4f} / {cosines.min():.4f} | "
                + " | ".join(cells)
                + f" | {median_ms(lambda q, e=encoder: e.encode([q]), questions):.2f} |",
                flush=True,
            )
            for m in moved:
                print(f"    differs from fp32: {m}")


def median_ms(fn, questions: list[str]) -> float:
    times = []
    for q in questions:
        started = time.perf_counter()
        fn(q)
        times.append(time.perf_counter() - started)
    return 1000 * statistics.median(times)


if __name__ == "__main__":
    main()
