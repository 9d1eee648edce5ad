"""What every format reader takes (a Source) and gives back (a Page); the registry is in reader.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from pathlib import Path

from .errors import CorpusError
from .models import Link, Section
from .site import Site


@dataclass(frozen=True)
class Source:
    path: Path  # on disk
    shown: Path  # corpus folder name + path inside it, as messages show it
    rel: str  # path under the corpus root, '/'-separated
    data: bytes
    site: Site
    # What the reader left out of the page that the file names (an include outside the folder).
    dropped: list[str] = field(default_factory=list, compare=False)


@dataclass(frozen=True)
class Page:
    """One file's content and metadata; reader.py turns it into a Document."""

    title: str
    sections: tuple[Section, ...]
    aliases: tuple[str, ...] = ()
    links: tuple[Link, ...] = ()
    tags: tuple[str, ...] = ()
    last_reviewed: str | None = None
    url: str | None = None  # the page's own public URL when the file says it (canonical link, permalink)
    lang: str | None = None
    description: str | None = None


class Anchors:
    """Section anchors unique within one page: a repeated heading gets '-2', '-3'..., as static-site
    generators number theirs, so every section has its own deep link."""

    def __init__(self) -> None:
        self._used: dict[str, int] = {}

    def unique(self, base: str) -> str:
        self._used[base] = self._used.get(base, 0) + 1
        return base if self._used[base] == 1 else f"{base}-{self._used[base]}"


def paragraphs_html(paragraphs) -> str:
    """Plain paragraphs as escaped HTML, for the formats whose own markup is not kept."""
    return "".join(f"<p>{escape(p)}</p>\n" for p in paragraphs)


def decode_utf8(path: Path, data: bytes) -> str:
    """The file's text with '\\n' line ends; undecodable bytes and NULs are errors with their line."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise CorpusError(path, line, "file is not valid UTF-8 text", "re-save the file as UTF-8")
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise CorpusError(path, line, "file contains NUL bytes; it looks binary", "save it as plain UTF-8 text")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def title_from_name(rel: str) -> str:
    """A readable title from a file name: 'getting-started.md' → 'Getting started'; 'index.md' → its folder."""
    path = Path(rel)
    stem = path.stem
    if stem.lower() in ("index", "readme", "_index") and path.parent.name:
        stem = path.parent.name
    words = " ".join(stem.replace("_", " ").replace("-", " ").split())
    return (words[:1].upper() + words[1:]) if words else path.name
