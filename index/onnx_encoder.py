"""The embedding model run by onnxruntime: exported once from the local weights, cached by their hash.

Why hand-written: sentence-transformers 6.2's own backend="onnx" needs optimum-onnx, and every
optimum-onnx on PyPI pins transformers<4.58 while Beacon's stack is transformers 5.x
(`pip install --dry-run 'sentence-transformers[onnx]==6.2.0'` fails to resolve). Measured on
the 2-core box (docs/performance.md): one short query costs ~13 ms in torch, ~3 ms in ONNX fp32
and ~2 ms with int8 dynamic quantisation, so the export pays for itself on every keystroke.
"""

from __future__ import annotations

import fcntl
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import ModelError

log = logging.getLogger("beacon.onnx")

OPSET = 17
# "-tokens": the graph also outputs the contextual token vectors mean pooling averages, so one pass
# over a passage gives its sentences' vectors too (index/embedder.py). Exports without that output
# (model.onnx) are left alone and never read again.
FP32 = "model-tokens.onnx"
INT8 = "model-tokens-int8.onnx"
SENTENCE_EMBEDDING = "sentence_embedding"
TOKEN_EMBEDDINGS = "token_embeddings"


def default_cache_dir() -> Path:
    return Path.home() / ".cache" / "beacon" / "onnx"


def export(model_location: str, weights_sha256: str, cache_dir: Path, quantize: bool) -> Path:
    """Export (and optionally int8-quantise) the model into cache_dir/<hash>/, once; returns the file.

    Concurrent workers may race to export: each writes a private temporary file and renames it
    into place, so a reader never sees half a model.
    """
    folder = Path(cache_dir) / weights_sha256[:16]
    fp32, int8 = folder / FP32, folder / INT8
    if fp32.is_file() and (int8.is_file() or not quantize):
        return int8 if quantize else fp32
    folder.mkdir(parents=True, exist_ok=True)
    # Workers starting together would otherwise export side by side (quantize_dynamic also
    # writes fixed-name scratch files next to its input).
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _export_locked(model_location, fp32, int8, quantize)


def _export_locked(model_location: str, fp32: Path, int8: Path, quantize: bool) -> Path:
    if not fp32.is_file():
        _export_fp32(model_location, fp32)
    if not quantize:
        return fp32
    if not int8.is_file():
        from onnxruntime.quantization import QuantType, quantize_dynamic

        tmp = int8.with_name(f".{int8.name}.{os.getpid()}.tmp")
        # MatMul weights only, one scale per output channel: quantising everything (embeddings
        # included) dropped cosine to fp32 to 0.93 on the corpus; this keeps mean 0.994, min 0.98.
        quantize_dynamic(
            str(fp32), str(tmp), weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul"], per_channel=True
        )
        os.replace(tmp, int8)
    return int8


def _export_fp32(model_location: str, target: Path) -> None:
    import torch
    from sentence_transformers import SentenceTransformer

    st = SentenceTransformer(model_location, device="cpu")
    names = list(st.tokenizer.model_input_names)

    class SentenceEmbedding(torch.nn.Module):
        """The whole sentence-transformers pipeline (transformer, pooling, normalise) as one graph."""

        def __init__(self):
            super().__init__()
            self.st = st

        def forward(self, *inputs):
            out = self.st(dict(zip(names, inputs)))
            return out["sentence_embedding"], out["token_embeddings"]

    sample = st.tokenizer(["a sample sentence", "another"], padding=True, return_tensors="pt")
    args = tuple(sample[n] for n in names)
    axes = {n: {0: "batch", 1: "tokens"} for n in [*names, TOKEN_EMBEDDINGS]}
    axes[SENTENCE_EMBEDDING] = {0: "batch"}
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    log.info("exporting %s to ONNX at %s (once per weights)", model_location, target)
    with torch.no_grad():
        # The TorchScript exporter: the dynamo one needs onnxscript, which Beacon does not ship.
        torch.onnx.export(
            SentenceEmbedding().eval(),
            args,
            str(tmp),
            input_names=names,
            output_names=[SENTENCE_EMBEDDING, TOKEN_EMBEDDINGS],
            dynamic_axes=axes,
            opset_version=OPSET,
            dynamo=False,
        )
    os.replace(tmp, target)


class OnnxEncoder:
    """Tokenises with the model's fast tokenizer and runs the exported graph; vectors are L2-normalised."""

    def __init__(self, model_location: str, model_file: Path, max_tokens: int, threads: int = 1):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        tokenizer_file = Path(model_location) / "tokenizer.json"
        if not tokenizer_file.is_file():
            raise ModelError(
                f"model at {model_location} has no tokenizer.json for the ONNX encoder",
                "set BEACON_ENCODER=torch for this model",
            )
        self.tokenizer = Tokenizer.from_file(str(tokenizer_file))
        # tokenizer.json ships padding fixed at 128 and truncation at 128; sentence-transformers
        # truncates at max_seq_length (256) and pads per batch, and fixed padding alone made a
        # short query 3x slower than torch.
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_tokens)
        options = ort.SessionOptions()
        # One thread per worker: on a small server, parallelism comes from workers, and a
        # thread pool per session only fights the other workers for the same cores.
        if threads > 0:
            options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Memory patterns are planned per input shape, and every batch here has its own length:
        # with them on, a build's buffers grew by another 270 MB and nothing ran faster.
        options.enable_mem_pattern = False
        self.session = ort.InferenceSession(str(model_file), options, providers=["CPUExecutionProvider"])
        self.input_names = [i.name for i in self.session.get_inputs()]

    def _run(self, texts: list[str], outputs: list[str]) -> tuple[list, list[np.ndarray]]:
        encodings = self.tokenizer.encode_batch(texts)
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(texts), width), np.int64)
        mask = np.zeros_like(ids)
        types = np.zeros_like(ids)
        for i, e in enumerate(encodings):
            n = len(e.ids)
            ids[i, :n], mask[i, :n], types[i, :n] = e.ids, e.attention_mask, e.type_ids
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        return encodings, self.session.run(outputs, {n: feeds[n] for n in self.input_names})

    def encode(self, texts: list[str]) -> np.ndarray:
        vectors = self._run(texts, [SENTENCE_EMBEDDING])[1][0]
        return _normalise(vectors)

    def encode_tokens(self, texts: list[str]) -> tuple[np.ndarray, list[TokenVectors]]:
        """Each text's vector, and its contextual token vectors with their character offsets (special
        tokens left out): the token vectors are those the text's own vector is the mean of."""
        encodings, (vectors, tokens) = self._run(texts, [SENTENCE_EMBEDDING, TOKEN_EMBEDDINGS])
        out = []
        for e, t in zip(encodings, tokens):
            # Each read of e.offsets builds the whole list again: read per token, it cost ~2.7 ms a
            # passage (5 s of the Rust book's build, holding the GIL the other encoding thread needs).
            keep = ~np.asarray(e.special_tokens_mask, bool)
            offsets = np.asarray(e.offsets, np.int64).reshape(-1, 2)
            out.append(TokenVectors(t[: len(keep)][keep], offsets[keep]))
        return _normalise(vectors), out


@dataclass(frozen=True)
class TokenVectors:
    """One text's contextual token vectors (tokens x dimension) and each token's (start, end) character offsets."""

    vectors: np.ndarray
    offsets: np.ndarray


def _normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.ascontiguousarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)
