"""Corpus files → clean, structured chunks. Knows nothing of embeddings or serving."""

from .chunking import chunk_documents
from .errors import BeaconError, CorpusError
from .models import Chunk, Document, Link, Section
from .reader import CorpusRead, Skipped, iter_documents, load_corpus, read_corpus, scan_corpus
from .site import CURATED, Site, load_site

__all__ = [
    "BeaconError",
    "CURATED",
    "Chunk",
    "CorpusError",
    "CorpusRead",
    "Document",
    "Link",
    "Section",
    "Site",
    "Skipped",
    "chunk_documents",
    "iter_documents",
    "load_corpus",
    "load_site",
    "read_corpus",
    "scan_corpus",
]
