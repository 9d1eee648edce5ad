"""Read one PDF (.pdf) with pypdf (BSD licence) as a manual: its outline's entries are the sections.

A PDF whose pages hold no text (a scan without a text layer) is an error, not an empty document:
it would be published and never found. Each section starts at its outline entry's heading on the
page the entry points at, and links to that page (`file.pdf#page=N`, the one deep link every PDF
viewer understands; a passage further down links to the page it starts on). Without an outline,
each page is a section. Running headers and footers, contents pages and index pages are left out;
text is NFKC-normalised (ligatures, full-width forms) and words hyphenated across lines are joined.
"""

from __future__ import annotations

import logging
import re
import statistics
import unicodedata
from collections import Counter
from dataclasses import dataclass
from io import BytesIO

from .errors import CorpusError
from .formats import Anchors, Page, Source, paragraphs_html, title_from_name
from .limits import MAX_PDF_PAGES, MAX_PDF_STREAM_BYTES
from .models import Section
from .text import slugify

# pypdf logs every recoverable oddity of a damaged file; the reader reports what matters itself.
logging.getLogger("pypdf").setLevel(logging.ERROR)

# A contents or index line: a title, dot leaders, a page number ("1.2 Notation . . . . . 4").
_LEADER = re.compile(r"(?:\.\s?){4,}\s*\S{1,8}$|(?:\.\s){3,}")
# A page is a contents or index page when this share of its lines have dot leaders. On the 730 pages
# of nine Debian manuals (seven R manuals, libtasn1, shared-mime-info) the 52 contents and index pages
# have 0.46-1.0 of them, text pages at most 0.06 (and the three-line tail of an index 0.33: it is
# left out with its outline entry, below).
CONTENTS_SHARE = 0.4
# Outline entries that stand for a contents or index section, whose pages are left out with it.
_NOT_CONTENT = re.compile(r"^\s*((table of )?contents|(\w+\s+)?(and\s+\w+\s+)?index|indices)\s*$", re.I)
# A running header or footer is repeated on this share of the pages (digits aside) ...
RUNNING_SHARE = 0.3
_DIGITS = re.compile(r"\d+")
# Front matter is numbered i, ii, iii ...: a roman numeral alone on a top or bottom line.
_ROMAN = re.compile(r"^(?=[ivxlc])(xc|xl|l?x{0,3})(ix|iv|v?i{0,3})$")
_EDGE_LINES = 2  # ... and is one of the first or last two lines of a page
# A section number before a printed heading: "2.5", "A.1", "3.3.1" (punctuation is gone from the key).
_NUMBERING = re.compile(r"(?:[0-9]{1,3}|[A-Z]) ?(?:[0-9]{1,3} ?){0,4}", re.I)
_HYPHENATED = re.compile(r"(\w+)-$")
_COMPOUND = re.compile(r"\b[^\W\d_]+-[^\W\d_]+\b")
_WORD_START = re.compile(r"[^\W\d_]+")


@dataclass(frozen=True)
class _Entry:
    title: str
    depth: int
    page: int  # 0-based


def _stream_cap():
    """pypdf's caps on decompressed streams set to Beacon's, where pypdf lets them be set (pypdf 7's
    Configuration, a context variable); older pypdf keeps its own 75 MB cap."""
    import contextlib

    try:
        from pypdf import apply_configuration
    except ImportError:
        return contextlib.nullcontext()
    caps = (
        "zlib_maximum_output_length",
        "lzw_maximum_output_length",
        "run_length_maximum_output_length",
        "brotli_maximum_output_length",
        "array_based_stream_maximum_output_length",
    )
    return apply_configuration(**{name: MAX_PDF_STREAM_BYTES for name in caps})


def read_pdf(src: Source) -> Page:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, LimitReachedError, PdfReadError, PyPdfError

    hint = "check that the file opens in a PDF viewer, or exclude it in beacon.toml"
    try:
        with _stream_cap():
            reader = PdfReader(BytesIO(src.data))
            if reader.is_encrypted and reader.decrypt("") == 0:
                raise CorpusError(
                    src.shown, None, "encrypted PDF, not indexed", "publish an unencrypted copy, or exclude it"
                )
            count = len(reader.pages)
            if count > MAX_PDF_PAGES:
                raise CorpusError(
                    src.shown,
                    None,
                    f"PDF has {count:,} pages; Beacon reads at most {MAX_PDF_PAGES:,}",
                    "split it into smaller files, or exclude it in beacon.toml",
                )
            pages = [page.extract_text() or "" for page in reader.pages]
            meta = reader.metadata
            meta_title = (meta.title or "").strip() if meta is not None else ""
    except CorpusError:
        raise
    except DependencyError as e:
        # AES needs the cryptography package, which Beacon does not install: pypdf says so while opening.
        encrypted = "crypt" in str(e) or "AES" in str(e)
        raise CorpusError(
            src.shown,
            None,
            "encrypted PDF, not indexed" if encrypted else f"cannot read this PDF: {e}",
            "publish an unencrypted copy, or exclude it" if encrypted else hint,
        )
    except LimitReachedError as e:
        raise CorpusError(
            src.shown,
            None,
            f"PDF has a stream that decompresses to more than {MAX_PDF_STREAM_BYTES // 1_000_000} MB, "
            f"or past another of pypdf's safety limits ({e})",
            hint,
        )
    except (PyPdfError, PdfReadError, ValueError, KeyError, TypeError, OSError, RecursionError) as e:
        raise CorpusError(src.shown, None, f"cannot read this PDF: {e or type(e).__name__}", hint)
    if not any(p.strip() for p in pages):
        raise CorpusError(
            src.shown,
            None,
            f"PDF has no text layer ({len(pages)} page(s) of images?)",
            "run OCR on it (e.g. ocrmypdf) and replace the file, or exclude it",
        )
    entries = _outline(reader, len(pages))
    lines = _clean_pages(pages)
    compounds = _compounds(lines)
    sections = _outline_sections(lines, entries, compounds) if entries else _page_sections(lines, compounds)
    if not sections:
        raise CorpusError(
            src.shown,
            None,
            "PDF has text only on its contents and index pages",
            "check that the file is the whole manual, or exclude it",
        )
    meta_title = _normal(meta_title)
    title = (
        (meta_title if meta_title.lower() not in ("", "untitled") else "")
        or _largest_line(reader)
        or (entries[0].title if entries else "")
        or _short_first_line(lines)
        or title_from_name(src.rel)
    )
    return Page(title=title, sections=tuple(sections))


def _normal(text: str) -> str:
    """NFKC ("ﬁ" → "fi", full-width letters → ASCII) and single spaces."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


def _outline(reader, page_count: int) -> list[_Entry]:
    """The outline (bookmarks) flattened in order, each entry with its depth and 0-based page; []
    when the PDF has none or it cannot be read (the pages are the sections then)."""
    found: list[_Entry] = []

    def walk(items, depth: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, depth + 1)
                continue
            title = _normal(getattr(item, "title", "") or "")
            page = reader.get_destination_page_number(item)
            if title and page is not None and 0 <= page < page_count:
                found.append(_Entry(title, depth, page))

    try:
        walk(reader.outline, 0)
    except Exception:  # a damaged outline must not lose the text: the pages are the sections then
        return []
    return found


def _edge_key(line: str) -> str:
    return _DIGITS.sub("#", line.lower())


def _clean_pages(pages: list[str]) -> list[list[str]]:
    """Each page's lines without running headers and footers, page numbers, and contents/index
    pages (those become empty)."""
    raw = [[_normal(l) for l in text.split("\n")] for text in pages]
    raw = [[l for l in lines if l] for lines in raw]
    # Lines repeated at the top or bottom of many pages, digits aside ("Shared MIME-info Database",
    # "Chapter 4: Function reference 20" and "... 21" on the pages of one chapter).
    edges = Counter()
    for lines in raw:
        for line in {*lines[:_EDGE_LINES], *lines[-_EDGE_LINES:]}:
            edges[_edge_key(line)] += 1
    repeated = {k for k, n in edges.items() if n >= max(3, RUNNING_SHARE * len(raw))}
    # The printed page number: the number a top or bottom line starts or ends with is the page's
    # index plus one offset for the whole manual (TeX manuals count from the first chapter).
    offsets = Counter()
    numbered: list[dict[int, int]] = []
    for index, lines in enumerate(raw):
        found = {}
        for at in {*range(min(_EDGE_LINES, len(lines))), *range(max(0, len(lines) - _EDGE_LINES), len(lines))}:
            number = re.match(r"^(\d{1,4})\b|.*\b(\d{1,4})$", lines[at])
            if number:
                value = int(number.group(1) or number.group(2))
                found[at] = value - index
                offsets[value - index] += 1
        numbered.append(found)
    offset = offsets.most_common(1)[0][0] if offsets and offsets.most_common(1)[0][1] >= 3 else None
    cleaned = []
    for lines, found in zip(raw, numbered):
        edge = {*range(min(_EDGE_LINES, len(lines))), *range(max(0, len(lines) - _EDGE_LINES), len(lines))}
        kept = [
            line
            for at, line in enumerate(lines)
            if not (
                at in edge
                and (
                    _edge_key(line) in repeated
                    or (offset is not None and found.get(at) == offset)
                    or _ROMAN.match(line)
                    or line.isdigit()
                )
            )
        ]
        leaders = sum(1 for l in kept if _LEADER.search(l))
        cleaned.append([] if kept and leaders >= CONTENTS_SHARE * len(kept) else kept)
    return cleaned


def _heading_at(lines: list[str], start: int, title: str) -> tuple[int, int] | None:
    """Where the entry's heading is printed on its page, from `start`: (first line, lines it takes)."""
    want = _key(title)
    for at in range(start, len(lines)):
        for span in (1, 2):
            text = _key(" ".join(lines[at : at + span]))
            # The printed heading may carry the number the outline leaves out ("2.5 How can R be installed?").
            if text == want or (text.endswith(" " + want) and _NUMBERING.fullmatch(text[: -len(want)].strip())):
                return at, span
    return None


def _key(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def _compounds(pages: list[list[str]]) -> frozenset[str]:
    """Words the manual writes with a hyphen inside a line ("run-time", "built-in"): one of them broken
    at its hyphen at a line's end keeps it."""
    return frozenset(w.lower() for lines in pages for line in lines for w in _COMPOUND.findall(line))


def _outline_sections(pages: list[list[str]], entries: list[_Entry], compounds: frozenset[str]) -> list[Section]:
    """One section per outline entry, from its heading to the next entry's."""
    # Where each entry starts: (page, line), found in order so entries on one page split it.
    starts: list[tuple[int, int, int]] = []  # (page, line, lines the heading takes)
    for entry in entries:
        line = starts[-1][1] + starts[-1][2] if starts and starts[-1][0] == entry.page else 0
        found = _heading_at(pages[entry.page], line, entry.title)
        starts.append((entry.page, *found) if found else (entry.page, line, 0))
    sections: list[Section] = []
    anchors = Anchors()
    path: list[str] = []
    front = _collect(pages, (0, 0), starts[0][:2] if starts else (len(pages), 0), compounds)
    if front[0]:
        sections.append(_section((), "", front, anchors, line=1))
    for n, entry in enumerate(entries):
        path = path[: entry.depth] + [entry.title]
        page, line, span = starts[n]
        end = starts[n + 1][:2] if n + 1 < len(entries) else (len(pages), 0)
        if _NOT_CONTENT.match(entry.title):
            continue
        body = _collect(pages, (page, line + span), end, compounds)
        if body[0]:
            sections.append(_section(tuple(path), entry.title, body, anchors, line=page + 1))
    return sections


def _collect(
    pages: list[list[str]], start: tuple[int, int], end: tuple[int, int], compounds: frozenset[str]
) -> tuple[list[str], list]:
    """The paragraphs between two (page, line) places, and a target for each page they cross."""
    paragraphs: list[str] = []
    targets: list[tuple[int, str]] = []
    page, line = start
    while (page, line) < end and page < len(pages):
        stop = end[1] if page == end[0] else len(pages[page])
        chunk = _paragraphs(pages[page][line:stop], compounds)
        # The section links to the page its heading is on, even when its text starts overleaf.
        if not targets or (chunk and paragraphs):
            targets.append((len(paragraphs), f"page={page + 1}"))
        paragraphs.extend(chunk)
        page, line = page + 1, 0
    return paragraphs, targets


def _section(path: tuple[str, ...], title: str, body, anchors: Anchors, line: int) -> Section:
    paragraphs, targets = body
    return Section(
        heading_path=path,
        anchor=anchors.unique(slugify(title) if title else "start"),
        text="\n".join(paragraphs),
        html=paragraphs_html(paragraphs),
        line=line,
        targets=tuple(targets),
    )


def _page_sections(pages: list[list[str]], compounds: frozenset[str]) -> list[Section]:
    """Without an outline, each page is a section, linked as page=N."""
    sections = []
    for number, lines in enumerate(pages, start=1):
        paragraphs = _paragraphs(lines, compounds)
        if paragraphs:
            sections.append(
                Section(
                    heading_path=(f"Page {number}",),
                    anchor=f"page={number}",
                    text="\n".join(paragraphs),
                    html=paragraphs_html(paragraphs),
                    line=number,
                )
            )
    return sections


def _largest_line(reader) -> str:
    """The first page's biggest text (a title page's title), when it is bigger than the rest."""
    pieces: list[tuple[float, str]] = []

    def visit(text, cm, tm, font, size):
        if text.strip() and size:
            scale = abs(tm[2] * cm[1] + tm[3] * cm[3]) or abs(tm[0] * cm[0] + tm[1] * cm[2]) or 1
            pieces.append((size * scale, text))

    try:
        reader.pages[0].extract_text(visitor_text=visit)
    except Exception:  # the title is a nicety: never fail a readable PDF over it
        return ""
    if len(pieces) < 2:
        return ""
    biggest = max(s for s, _ in pieces)
    if biggest < 1.2 * statistics.median(s for s, _ in pieces):
        return ""
    run, started = [], False
    for size, text in pieces:
        if size >= 0.8 * biggest:
            run.append(text)
            started = True
        elif started:
            break
    title = _normal(" ".join(run))
    return title if 0 < len(title) <= 120 else ""


def _short_first_line(pages: list[list[str]]) -> str:
    first = next((lines[0] for lines in pages if lines), "")
    return first if len(first) <= 120 else ""


def _paragraphs(lines: list[str], compounds: frozenset[str] = frozenset()) -> list[str]:
    """pypdf gives one line per printed line; join lines into paragraphs at lines that end a
    sentence, so a sentence broken across lines is read as one, and a word hyphenated at a line's
    end ("Win-" + "dows") as one word."""
    out: list[str] = []
    current = ""
    for line in lines:
        if not line:
            if current:
                out.append(current)
                current = ""
            continue
        broken = _HYPHENATED.search(current)
        rest = _WORD_START.match(line)
        if broken and rest and line[:1].islower() and f"{broken.group(1)}-{rest.group()}".lower() not in compounds:
            current = current[:-1] + line  # "Win-" + "dows": a word broken at a syllable
        elif broken:
            current = current + line  # "S-" + "Plus", "run-" + "time": a hyphen of the word itself
        else:
            current = f"{current} {line}" if current else line
        if line.endswith((".", "!", "?", ":", "。", "！", "？")):
            out.append(current)
            current = ""
    if current:
        out.append(current)
    return out
