"""Plain text (.txt): the first non-empty line is the title, the rest one section of paragraphs."""

from __future__ import annotations

from .errors import CorpusError
from .formats import Page, Source, decode_utf8, paragraphs_html
from .models import Section
from .text import slugify


def read_text(src: Source) -> Page:
    text = decode_utf8(src.shown, src.data)
    if not text.strip():
        raise CorpusError(src.shown, 1, "file is empty", "write some content or delete the file")
    lines = text.split("\n")
    first = next(i for i, l in enumerate(lines) if l.strip())
    title = lines[first].strip()
    paragraphs = [" ".join(p.split()) for p in "\n".join(lines[first + 1 :]).split("\n\n") if p.strip()]
    body = "\n".join(paragraphs) or title
    html = paragraphs_html(paragraphs or [title])
    return Page(
        title=title, sections=(Section(heading_path=(), anchor=slugify(title), text=body, html=html, line=first + 1),)
    )
