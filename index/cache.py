"""Embedding cache keyed by (model weights, embedded text), so rebuilds embed only what changed."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import numpy as np

from .publish import replace_durably


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True


def remove_stale_temp_files(directory: Path) -> list[Path]:
    """Delete `.embeddings-….npz.<pid>.tmp` files whose writer is gone (a build killed mid-save).

    A SIGKILL runs no cleanup, so the next save does it; a file whose process still runs is left alone."""
    removed = []
    for tmp in Path(directory).glob(".embeddings-*.npz.*.tmp"):
        pid = tmp.name.rsplit(".", 2)[-2]
        if pid.isdigit() and int(pid) != os.getpid() and _alive(int(pid)):
            continue
        tmp.unlink(missing_ok=True)
        removed.append(tmp)
    return removed


class EmbeddingCache:
    """A dict of key → vector persisted as one .npz per model; writes are atomic replaces.

    A vector depends on the weights, the text and the model's token limit (longer text is truncated
    at it), so all three name the cache file: another model or limit starts from an empty cache."""

    def __init__(self, directory: Path, model_sha256: str, dimension: int, max_tokens: int = 0):
        self.path = Path(directory) / f"embeddings-{model_sha256[:16]}-{dimension}-{max_tokens}.npz"
        self.dimension = dimension
        self._vectors: dict[str, np.ndarray] = {}
        if self.path.parent.is_dir():
            remove_stale_temp_files(self.path.parent)
        if self.path.is_file():
            try:
                with np.load(self.path) as data:
                    self._vectors = dict(zip(data["keys"].tolist(), data["vectors"]))
            except (OSError, ValueError, KeyError):
                self._vectors = {}  # a damaged cache only costs a full re-embed

    def get(self, key: str) -> np.ndarray | None:
        return self._vectors.get(key)

    def put(self, key: str, vector: np.ndarray) -> None:
        self._vectors[key] = vector

    def save(self, keep: set[str]) -> None:
        """Persist only the keys still in use, so the cache never grows past the corpus."""
        keys = sorted(k for k in self._vectors if k in keep)
        vectors = np.stack([self._vectors[k] for k in keys]) if keys else np.zeros((0, self.dimension), np.float32)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temp_files(self.path.parent)
        buffer = io.BytesIO()
        np.savez(buffer, keys=np.array(keys), vectors=vectors.astype(np.float32))
        replace_durably(self.path, buffer.getvalue())
