"""Corpus files → clean, structured chunks. Knows nothing of embeddings or serving."""

from .chunking import chunk_documents
from .errors import BeaconError, CorpusError
from .models import Chunk, Document, Link, Section
from .reader import corpus_files, load_corpus, read_corpus

__all__ = [
    "BeaconError", "Chunk", "CorpusError", "Document", "Link", "Section",
    "chunk_documents", "corpus_files", "load_corpus", "read_corpus",
]
