"""Turn documents into chunks: one per section, split at sentence ends only when too long to embed."""

from __future__ import annotations

import bisect
import functools
import itertools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .models import LABEL_SEPARATOR, Chunk, Document, Section
from .text import Block, solid_length, split_blocks, split_sentences

TokenCounter = Callable[[str], int]
Range = tuple[int, int]  # units[start:end]
# Bump when the way sections are split changes, so every index built the old way is rebuilt.
# 2: line breaks and the closing quote or bracket after a full stop are kept in split sections.
# 3: each chunk records the finer link target it starts under (Chunk.target).
# 4: ... and those inside it (Chunk.targets).
# 5: code blocks are in the text (ingest/text.py's form) and kept whole; one too long is cut between lines,
#    each piece fenced again.
# 6: Sphinx's viewcode links ("[source]" after an API entry) are no longer read as words (ingest/html.py).
# 7: a long sentence's clauses and a long code block's lines are cut where the section's pieces are
#    cut, not packed into pieces of their own first; a last piece under SCRAP of the budget shares
#    the piece before it evenly.
CHUNKING_VERSION = 7
# A passage always gets at least this many tokens, even under a very long title + heading path.
MIN_PASSAGE_TOKENS = 16
# Filling each piece of a long section in turn leaves whatever is over to the last one, often one
# sentence or a code block's closing lines: on Django's docs a 34-character code scrap was the answer
# shown for "how can I run raw SQL queries". A last piece under this share of the budget is balanced
# with the one before it. Balancing every piece of a section evenly was measured too, and ranked
# worse on all four real sites (docs/quality.md, "Passages without scraps").
SCRAP = 0.25
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
    """A sentence, or, when it alone is longer than the budget, its clauses, then the words of a clause
    still too long (each keeping the white space after it). The section's pieces are packed from these
    (_ranges), so a long sentence's pieces join the sentences around them."""
    if count(sentence) <= budget:
        return [sentence]
    for splitter in (_CLAUSE, _WORD):
        parts = _split_keeping_spaces(sentence, splitter)
        if len(parts) > 1:
            return [piece for part in parts for piece in _pieces(part, budget, count)]
    return [sentence]  # one unbreakable token run; the encoder truncates it


@dataclass(frozen=True)
class _Part:
    """A piece of a section's text, and the fence characters (non-space) the chunker added to it when
    it cut a code block: `lead` of them before the section's own text starts, `added` in all."""

    text: str
    lead: int = 0
    added: int = 0


@dataclass(frozen=True)
class _Unit:
    """What a section's pieces are made of: a sentence (or a clause or word of a long one), a code
    block, or one line of a code block too long for a passage. Such a line carries its block's
    `opening` line and closing `fence`: a passage that starts after the block's first line opens it
    again, one that ends before its last line closes it (a passage shows and searches as code
    wherever it starts)."""

    text: str
    opening: str = ""
    fence: str = ""
    first: bool = False
    last: bool = False

    @property
    def reopens(self) -> bool:
        return bool(self.opening) and not self.first

    @property
    def recloses(self) -> bool:
        return bool(self.fence) and not self.last


def _code_units(block: Block, budget: int, count: TokenCounter) -> list[_Unit]:
    """A code block whole, or, when it alone is over the budget, its lines (cut where the section's
    pieces are cut, with the sentences around it)."""
    if count(block.text) <= budget:
        return [_Unit(block.text + "\n")]
    opening = block.text.split("\n", 1)[0]
    fence = opening[: len(opening) - len(block.lang)]
    lines = block.body.split("\n")
    last = len(lines) - 1
    return [
        _Unit(
            (f"{opening}\n" if n == 0 else "") + f"{line}\n" + (f"{fence}\n" if n == last else ""),
            opening,
            fence,
            first=n == 0,
            last=n == last,
        )
        for n, line in enumerate(lines)
    ]


def _piece(units: list[_Unit]) -> _Part:
    """The units as one passage's text, a code block it cuts fenced again where it cuts it."""
    head, tail = units[0], units[-1]
    lead = solid_length(head.opening) if head.reopens else 0
    text = (f"{head.opening}\n" if head.reopens else "") + "".join(u.text for u in units)
    text += f"{tail.fence}\n" if tail.recloses else ""
    return _Part(text.strip(), lead, lead + (len(tail.fence) if tail.recloses else 0))


def _ranges(weights: list[int], room: int, opens: list[int], closes: list[int]) -> list[Range]:
    """Where to cut a run of units into pieces: each filled in turn, so as few as fit the budget, but
    a last piece shorter than SCRAP of the budget shares the units of the piece before it evenly.
    Filling in turn is the fewest because a piece never costs less for holding one more unit: a code
    block's first line holds its opening line and its last line the fence, which the fences added at
    a cut never exceed.

    A piece units[a:b] costs opens[a] + sum(weights[a:b]) + closes[b - 1] tokens (the fences added
    where it cuts a code block), within `room`: the units meet at white space, where a WordPiece
    tokenizer's counts add up, so each is counted once (_split_section checks the pieces with the
    real count). One unit over the budget is a piece of its own."""
    sums = list(itertools.accumulate(weights, initial=0))

    def cost(a: int, b: int) -> int:
        return opens[a] + sums[b] - sums[a] + closes[b - 1]

    def fitting(a: int, b: int) -> bool:
        return b - a == 1 or cost(a, b) <= room

    ranges = _filled_ranges(len(weights), fitting)
    if len(ranges) > 1 and cost(*ranges[-1]) < room * SCRAP:
        (start, _), (_, end) = ranges[-2], ranges[-1]
        cuts = [c for c in range(start + 1, end) if fitting(start, c) and fitting(c, end)]
        cut = min(cuts, key=lambda c: cost(start, c) ** 2 + cost(c, end) ** 2)
        ranges[-2:] = [(start, cut), (cut, end)]
    return ranges


def _filled_ranges(total: int, fits: Callable[[int, int], bool]) -> list[Range]:
    """Fill each piece before starting the next (a unit over the budget alone)."""
    ranges, start = [], 0
    for end in range(2, total + 1):
        if end - start > 1 and not fits(start, end):
            ranges.append((start, end - 1))
            start = end - 1
    if total:
        ranges.append((start, total))
    return ranges


def _split_section(text: str, budget: int, count: TokenCounter) -> list[_Part]:
    # A sentence is counted when it is cut (_pieces) and again as a unit, and code lines and fences
    # repeat: kept for the section, the Rust book's 24,161 counts become 15,514 (chunking 10-28% faster).
    count = functools.cache(count)
    if count(text) <= budget:
        return [_Part(text)]
    # A line break stays between the sentences it separated: a paragraph, a list item or a code
    # block is still a sentence of its own when the answer is cut from the passage (split_sentences).
    units: list[_Unit] = []
    for block in split_blocks(text):
        if block.code:
            units.extend(_code_units(block, budget, count))
            continue
        for line in block.text.split("\n"):
            sentences = split_sentences(line)
            ends = [f"{s} " for s in sentences[:-1]] + [f"{s}\n" for s in sentences[-1:]]
            units.extend(_Unit(piece) for end in ends for piece in _pieces(end, budget, count))
    empty = count("")

    def tokens(text: str) -> int:
        return count(text) - empty

    ranges = _ranges(
        [tokens(u.text) for u in units],
        budget - empty,
        [tokens(u.opening) if u.reopens else 0 for u in units],
        [tokens(u.fence) if u.recloses else 0 for u in units],
    )
    parts = [_piece(units[a:b]) for a, b in ranges]
    if any(b - a > 1 and count(p.text) > budget for (a, b), p in zip(ranges, parts)):
        # A tokenizer whose counts do not add up across white space: fill each piece by the real count.
        ranges = _filled_ranges(len(units), lambda a, b: count(_piece(units[a:b]).text) <= budget)
        parts = [_piece(units[a:b]) for a, b in ranges]
    return [p for p in parts if p.text]


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
