"""Turn documents into chunks: one per section, split at sentence ends only when too long to embed."""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable

from .models import LABEL_SEPARATOR, Chunk, Document, Section
from .text import solid_length, split_sentences

TokenCounter = Callable[[str], int]
# Bump when the way sections are split changes, so every index built the old way is rebuilt.
# 2: line breaks and the closing quote or bracket after a full stop are kept in split sections.
# 3: each chunk records the finer link target it starts under (Chunk.target).
# 4: ... and those inside it (Chunk.targets).
CHUNKING_VERSION = 4
# A passage always gets at least this many tokens, even under a very long title + heading path.
MIN_PASSAGE_TOKENS = 16
_CLAUSE = re.compile(r"(?<=[,;:，、；：])")
_WORD = re.compile(r"(?<=\s)|(?<=[\u3000-\u9fff])")


def _split_keeping_spaces(text: str, splitter: re.Pattern) -> list[str]:
    """Split at zero-width points, each part keeping the white space after it, so that joining the
    parts gives the text back."""
    parts: list[str] = []
    for part in splitter.split(text):
        if parts and not part.strip():
            parts[-1] += part
        elif part:
            parts.append(part)
    return parts


def _pieces(sentence: str, budget: int, count: TokenCounter) -> list[str]:
    """A single sentence longer than the budget: split at clauses, then at words as a last resort."""
    if count(sentence) <= budget:
        return [sentence]
    for splitter in (_CLAUSE, _WORD):
        parts = _split_keeping_spaces(sentence, splitter)
        if len(parts) > 1:
            return _pack(parts, budget, count)
    return [sentence]  # one unbreakable token run; the encoder truncates it


def _pack(units: list[str], budget: int, count: TokenCounter) -> list[str]:
    """Greedily pack consecutive units (each ending in the white space that followed it) into pieces
    that fit the token budget. The pieces keep that white space: a long sentence's pieces are packed
    again with the units around them."""
    pieces: list[str] = []
    current: list[str] = []
    for unit in units:
        for part in _pieces(unit, budget, count):
            if current and count("".join(current + [part])) > budget:
                pieces.append("".join(current))
                current = [part]
            else:
                current.append(part)
    if current:
        pieces.append("".join(current))
    return pieces


def _split_section(text: str, budget: int, count: TokenCounter) -> list[str]:
    if count(text) <= budget:
        return [text]
    # A line break stays between the sentences it separated: a paragraph, a list item or a code
    # block is still a sentence of its own when the answer is cut from the passage (split_sentences).
    units = []
    for line in text.split("\n"):
        sentences = split_sentences(line)
        units.extend(f"{s} " for s in sentences[:-1])
        units.extend(f"{s}\n" for s in sentences[-1:])
    return [piece.strip() for piece in _pack(units, budget, count) if piece.strip()]


Targets = tuple[tuple[int, str], ...]


def _part_targets(section: Section, parts: list[str]) -> list[tuple[str, Targets]]:
    """For each part: the last of the section's targets at or before the line the part starts on,
    and the targets whose lines start inside the part, at their offset in it (solid_length).

    The parts are the section's text in order, white space aside (tests/ingest/test_properties.py),
    so a part starts after as many non-space characters as the parts before it hold."""
    if not section.targets:
        return [("", ())] * len(parts)
    line_starts, seen = [], 0
    for line in section.text.split("\n"):
        line_starts.append(seen)
        seen += solid_length(line)
    found, before = [], 0
    for part in parts:
        line = bisect.bisect_right(line_starts, before) - 1
        start = next((anchor for at, anchor in reversed(section.targets) if at <= line), "")
        end = before + solid_length(part)
        inside = tuple((line_starts[at] - before, a) for at, a in section.targets if before < line_starts[at] < end)
        found.append((start, inside))
        before = end
    return found


def chunk_document(doc: Document, max_tokens: int, count_tokens: TokenCounter) -> list[Chunk]:
    chunks: list[Chunk] = []
    for section in doc.sections:
        chunks.extend(_section_chunks(doc, section, max_tokens, count_tokens, start=len(chunks)))
    return chunks


def _section_chunks(doc: Document, section: Section, max_tokens: int, count: TokenCounter, start: int) -> list[Chunk]:
    name = LABEL_SEPARATOR.join(section.heading_path) if section.heading_path else doc.title
    links = tuple(dict.fromkeys(doc.links + section.links))
    probe = Chunk(id="", doc_id=doc.doc_id, title=doc.title, section=name, anchor="", text="", links=())
    # The title prefix is embedded too, so it spends part of the model's budget.
    budget = max(MIN_PASSAGE_TOKENS, max_tokens - count(probe.embedding_text()))
    parts = _split_section(section.text, budget, count)
    targets = _part_targets(section, parts)
    base = f"{doc.doc_id}#{section.anchor}"
    return [
        Chunk(
            id=base if n == 0 else f"{base}~{n + 1}",
            doc_id=doc.doc_id,
            title=doc.title,
            section=name,
            anchor=section.anchor,
            text=part,
            links=links,
            aliases=doc.aliases,
            tags=doc.tags,
            position=start + n,
            target=targets[n][0],
            targets=targets[n][1],
        )
        for n, part in enumerate(parts)
    ]


def chunk_documents(docs: Iterable[Document], max_tokens: int, count_tokens: TokenCounter) -> list[Chunk]:
    """All chunks of all documents, in corpus order."""
    return [c for doc in docs for c in chunk_document(doc, max_tokens, count_tokens)]
