"""Embed chunks, build and atomically publish FAISS index versions, load them and search."""

from .build import BuildReport, build_index, is_stale
from .embedder import DEFAULT_MODEL, Embedder
from .errors import BuildInProgressError, IndexCorruptError, IndexMissingError, ModelError
from .offline import go_offline
from .publish import current_version, list_versions
from .search import Answer, Hit, Searcher, SearchResult, SearchSettings, open_searcher
from .store import StoredIndex, load_version

# The model libraries load lazily (inside Embedder), so this runs before any of them does.
go_offline()

__all__ = [
    "DEFAULT_MODEL",
    "Answer",
    "BuildInProgressError",
    "BuildReport",
    "Embedder",
    "Hit",
    "IndexCorruptError",
    "IndexMissingError",
    "ModelError",
    "SearchResult",
    "SearchSettings",
    "Searcher",
    "StoredIndex",
    "build_index",
    "current_version",
    "is_stale",
    "list_versions",
    "load_version",
    "open_searcher",
]
