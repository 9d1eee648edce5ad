"""Build caches on disk, so a rebuild re-chunks and re-embeds only what changed.

Both are SQLite tables of key → bytes (the standard library's sqlite3: a file that survives a killed
build at its last commit, looked up one key at a time). Held on disk rather than in memory, a build of
a big site never holds every vector twice (once cached, once in the FAISS index) nor every page's
chunks twice (once cached, once built)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Self

import numpy as np
import orjson


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class _Table:
    """key → bytes in one SQLite file; changes become durable at commit()."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = self._open()
        except sqlite3.DatabaseError:
            self.path.unlink(missing_ok=True)  # a damaged cache only costs a full re-embed
            self._db = self._open()

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path)
        db.execute("CREATE TABLE IF NOT EXISTS cache (key TEXT PRIMARY KEY, value BLOB NOT NULL)")
        db.execute("SELECT count(*) FROM cache").fetchone()  # reads the file: a damaged one fails here
        return db

    def get(self, key: str) -> bytes | None:
        row = self._db.execute("SELECT value FROM cache WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def has(self, key: str) -> bool:
        return self._db.execute("SELECT 1 FROM cache WHERE key = ?", (key,)).fetchone() is not None

    def put(self, key: str, value: bytes) -> None:
        self._db.execute("INSERT OR REPLACE INTO cache (key, value) VALUES (?, ?)", (key, value))

    def commit(self) -> None:
        self._db.commit()

    def keep_only(self, keys: Iterable[str]) -> None:
        """Drop every entry not in keys, so the cache never grows past the corpus; commits."""
        self._db.execute("CREATE TEMP TABLE IF NOT EXISTS kept (key TEXT PRIMARY KEY)")
        self._db.execute("DELETE FROM kept")
        self._db.executemany("INSERT OR IGNORE INTO kept (key) VALUES (?)", ((k,) for k in keys))
        self._db.execute("DELETE FROM cache WHERE key NOT IN (SELECT key FROM kept)")
        self._db.execute("DELETE FROM kept")
        self._db.commit()

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self._db.commit()
        self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class EmbeddingCache(_Table):
    """Passage vectors by sha256 of the embedded text, one file per model, with the vectors of each
    passage's sentences beside them (table `sentences`, float16: they only choose the answer sentence).

    A vector depends on the weights, the text and the model's token limit (longer text is truncated
    at it), so all three name the cache file: another model or limit starts from an empty cache."""

    def __init__(self, directory: Path, model_sha256: str, dimension: int, max_tokens: int = 0):
        self.dimension = dimension
        name = f"embeddings-{model_sha256[:16]}-{dimension}-{max_tokens}"
        super().__init__(Path(directory) / f"{name}.sqlite")
        self._db.execute("CREATE TABLE IF NOT EXISTS sentences (key TEXT PRIMARY KEY, value BLOB NOT NULL)")
        self._import_npz(Path(directory) / f"{name}.npz")
        _drop_dead_temps(Path(directory), f".{name}.npz.*.tmp")

    def _import_npz(self, old: Path) -> None:
        """Take over the vectors of the one-file cache earlier versions kept, so upgrading does not
        cost a big site hours of re-embedding; then the old file goes."""
        if not old.is_file():
            return
        with contextlib.suppress(OSError, ValueError, KeyError), np.load(old) as data:
            for key, vector in zip(data["keys"].tolist(), data["vectors"]):
                super().put(key, np.asarray(vector, dtype=np.float32).tobytes())
            self.commit()
        old.unlink(missing_ok=True)

    def has(self, key: str, sentences: int | None = None) -> bool:
        """True only for a vector get() will return (and, given a sentence count, that many sentence
        vectors), so a build re-embeds a damaged or incomplete entry, never KeyErrors."""
        row = self._db.execute("SELECT 1 FROM cache WHERE key = ? AND length(value) = ?", (key, 4 * self.dimension))
        if row.fetchone() is None:
            return False
        if sentences is None:
            return True
        row = self._db.execute(
            "SELECT 1 FROM sentences WHERE key = ? AND length(value) = ?", (key, 2 * self.dimension * sentences)
        )
        return row.fetchone() is not None

    def get(self, key: str) -> np.ndarray | None:
        value = super().get(key)
        if value is None or len(value) != 4 * self.dimension:
            return None
        return np.frombuffer(value, dtype=np.float32)

    def put(self, key: str, vector: np.ndarray, sentences: np.ndarray | None = None) -> None:
        super().put(key, np.asarray(vector, dtype=np.float32).tobytes())
        if sentences is not None:
            self._db.execute(
                "INSERT OR REPLACE INTO sentences (key, value) VALUES (?, ?)",
                (key, np.asarray(sentences, dtype=np.float16).tobytes()),
            )

    def sentence_vectors(self, key: str) -> np.ndarray:
        """The passage's sentence vectors (sentences x dimension, float16); the key must be cached."""
        row = self._db.execute("SELECT value FROM sentences WHERE key = ?", (key,)).fetchone()
        if row is None:
            raise KeyError(key)
        return np.frombuffer(row[0], dtype=np.float16).reshape(-1, self.dimension)

    def keep_only(self, keys: Iterable[str]) -> None:
        super().keep_only(keys)
        self._db.execute("DELETE FROM sentences WHERE key NOT IN (SELECT key FROM cache)")
        self._db.commit()

    def vectors(self, keys: list[str]) -> np.ndarray:
        """The cached vectors of keys, as rows in that order; every key must be cached."""
        out = np.empty((len(keys), self.dimension), np.float32)
        for row, key in enumerate(keys):
            vector = self.get(key)
            if vector is None:
                raise KeyError(key)
            out[row] = vector
        return out


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True


def _drop_dead_temps(directory: Path, pattern: str) -> None:
    """Delete the `<cache>.npz.<pid>.tmp` files earlier versions left when a build died mid-save; a file
    whose writer (an older Beacon still running) is alive is left alone."""
    for tmp in directory.glob(pattern):
        pid = tmp.name.rsplit(".", 2)[-2]
        if not (pid.isdigit() and int(pid) != os.getpid() and _alive(int(pid))):
            tmp.unlink(missing_ok=True)


class ChunkCache(_Table):
    """A document's chunks (as dicts) by sha256 of the whole document, one file per tokenizer window
    and chunking version: chunks depend only on the document, the model's tokenizer and its window."""

    def __init__(self, directory: Path, model_sha256: str, max_tokens: int, chunking_version: int):
        name = f"chunks-{model_sha256[:16]}-{max_tokens}-v{chunking_version}"
        super().__init__(Path(directory) / f"{name}.sqlite")
        # Earlier versions kept this cache as one JSON file, read whole; re-chunking once is cheap.
        (Path(directory) / f"{name}.json").unlink(missing_ok=True)

    def get_chunks(self, key: str) -> list[dict] | None:
        value = self.get(key)
        try:
            return orjson.loads(value) if value is not None else None
        except orjson.JSONDecodeError:
            return None

    def put_chunks(self, key: str, chunks: list[dict]) -> None:
        self.put(key, orjson.dumps(chunks))
