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
from .limits import MAX_PDF_PAGES, MAX_PDF_STREAM_BYTES
from .models import Section

# pypdf logs every recoverable oddity of a damaged file; the reader reports what matters itself.
logging.getLogger("pypdf").setLevel(logging.ERROR)


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
