"""Turn documents into chunks: one per section, split at sentence ends only when too long to embed."""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .models import LABEL_SEPARATOR, Chunk, Document, Section
from .text import Block, code_block, solid_length, split_blocks, split_sentences

TokenCounter = Callable[[str], int]
# Bump when the way sections are split changes, so every index built the old way is rebuilt.
# 2: line breaks and the closing quote or bracket after a full stop are kept in split sections.
# 3: each chunk records the finer link target it starts under (Chunk.target).
# 4: ... and those inside it (Chunk.targets).
# 5: code blocks are in the text (ingest/text.py's form) and kept whole; one too long is cut between lines,
#    each piece fenced again.
# 6: Sphinx's viewcode links ("[source]" after an API entry) are no longer read as words (ingest/html.py).
CHUNKING_VERSION = 6
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


@dataclass(frozen=True)
class _Part:
    """A piece of a section's text, and the fence characters (non-space) the chunker added to it when
    it cut a code block: `lead` of them before the section's own text starts, `added` in all."""

    text: str
    lead: int = 0
    added: int = 0


def _code_units(block: Block, budget: int, count: TokenCounter) -> list[_Part]:
    """A code block whole, or, when it alone is over the budget, cut between lines into pieces that
    are each a code block again (a passage shows and searches as code wherever it starts)."""
    if count(block.text) <= budget:
        return [_Part(block.text + "\n")]
    opening = block.text.split("\n", 1)[0]
    fence = opening[: len(opening) - len(block.lang)]
    groups: list[list[str]] = [[]]
    for line in block.body.split("\n"):
        if groups[-1] and count(code_block("\n".join(groups[-1] + [line]), block.lang)) > budget:
            groups.append([])
        groups[-1].append(line)
    units = []
    for n, lines in enumerate(groups):
        first, last = n == 0, n == len(groups) - 1
        text = f"{opening}\n" + "\n".join(lines) + f"\n{fence}\n"
        lead = 0 if first else solid_length(opening)
        units.append(_Part(text, lead, lead + (0 if last else len(fence))))
    return units


def _split_section(text: str, budget: int, count: TokenCounter) -> list[_Part]:
    if count(text) <= budget:
        return [_Part(text)]
    # A line break stays between the sentences it separated: a paragraph, a list item or a code
    # block is still a sentence of its own when the answer is cut from the passage (split_sentences).
    units: list[_Part] = []
    for block in split_blocks(text):
        if block.code:
            units.extend(_code_units(block, budget, count))
            continue
        for line in block.text.split("\n"):
            sentences = split_sentences(line)
            ends = [f"{s} " for s in sentences[:-1]] + [f"{s}\n" for s in sentences[-1:]]
            units.extend(_Part(piece) for end in ends for piece in _pieces(end, budget, count))
    parts: list[_Part] = []
    current: list[_Part] = []
    for unit in units:
        if current and count("".join(u.text for u in current + [unit])) > budget:
            parts.append(_joined(current))
            current = []
        current.append(unit)
    if current:
        parts.append(_joined(current))
    return [p for p in parts if p.text]


def _joined(units: list[_Part]) -> _Part:
    return _Part("".join(u.text for u in units).strip(), units[0].lead, sum(u.added for u in units))


Targets = tuple[tuple[int, str], ...]


def _part_targets(section: Section, parts: list[_Part]) -> list[tuple[str, Targets]]:
    """For each part: the last of the section's targets at or before the line the part starts on,
    and the targets whose lines start inside the part, at their offset in it (solid_length).

    The parts are the section's text in order, white space and the fences added to a cut code block
    aside (tests/ingest/test_properties.py), so a part starts after as many non-space characters of
    the section as the parts before it hold."""
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
        end = before + solid_length(part.text) - part.added
        inside = tuple(
            (line_starts[at] - before + part.lead, a) for at, a in section.targets if before < line_starts[at] < end
        )
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
            text=part.text,
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
