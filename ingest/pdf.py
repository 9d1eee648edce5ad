"""Read one PDF (.pdf) with pypdf (BSD licence): one section per page, linked as file.pdf#page=N.

A PDF whose pages hold no text (a scan without a text layer) is an error, not an empty document:
it would be published and never found. Pages are the sections because a PDF's headings are only
bigger letters; the page number is the one deep link every PDF viewer understands.
"""

from __future__ import annotations

import logging
from io import BytesIO

from .errors import CorpusError
from .formats import Page, Source, paragraphs_html, title_from_name
from .models import Section

# pypdf logs every recoverable oddity of a damaged file; the reader reports what matters itself.
logging.getLogger("pypdf").setLevel(logging.ERROR)


def read_pdf(src: Source) -> Page:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(BytesIO(src.data))
        if reader.is_encrypted and reader.decrypt("") == 0:
            raise CorpusError(src.shown, None, "PDF is encrypted", "publish an unencrypted copy, or exclude it")
        pages = [page.extract_text() or "" for page in reader.pages]
        meta = reader.metadata
        meta_title = (meta.title or "").strip() if meta is not None else ""
    except CorpusError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError, RecursionError) as e:
        raise CorpusError(
            src.shown,
            None,
            f"cannot read this PDF: {e or type(e).__name__}",
            "check that the file opens in a PDF viewer, or exclude it in beacon.toml",
        )
    sections = []
    for number, raw in enumerate(pages, start=1):
        lines = [" ".join(l.split()) for l in raw.split("\n")]
        paragraphs = _paragraphs([l for l in lines])
        if not paragraphs:
            continue
        sections.append(
            Section(
                heading_path=(f"Page {number}",),
                anchor=f"page={number}",
                text="\n".join(paragraphs),
                html=paragraphs_html(paragraphs),
                line=number,
            )
        )
    if not sections:
        raise CorpusError(
            src.shown,
            None,
            f"PDF has no text layer ({len(pages)} page(s) of images?)",
            "run OCR on it (e.g. ocrmypdf) and replace the file, or exclude it",
        )
    first_line = sections[0].text.split("\n", 1)[0]
    title = meta_title or (first_line if len(first_line) <= 120 else "") or title_from_name(src.rel)
    return Page(title=title, sections=tuple(sections))


def _paragraphs(lines: list[str]) -> list[str]:
    """pypdf gives one line per printed line; join lines into paragraphs at blank lines and at
    lines that end a sentence, so a sentence broken across lines is read as one."""
    out: list[str] = []
    current: list[str] = []
    for line in lines:
        if not line:
            if current:
                out.append(" ".join(current))
                current = []
            continue
        current.append(line)
        if line.endswith((".", "!", "?", ":", "。", "！", "？")):
            out.append(" ".join(current))
            current = []
    if current:
        out.append(" ".join(current))
    return out
