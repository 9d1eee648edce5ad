"""Walk a corpus folder and turn each supported file into a Document, or a CorpusError."""

from __future__ import annotations

import hashlib
from html import escape
from pathlib import Path

from .errors import CorpusError
from .markdown import parse_front_matter, read_metadata, split_sections
from .models import Document, Section
from .text import slugify

SUPPORTED = (".md", ".markdown", ".txt")
# Curator notes live beside the content; they describe the corpus and are not part of it.
SKIPPED_NAMES = {"readme.md", "readme.txt"}


def corpus_files(corpus_dir: Path) -> list[Path]:
    """Every file the corpus holds, hidden files and curator READMEs left out, in a stable order."""
    corpus_dir = Path(corpus_dir)
    if not corpus_dir.is_dir():
        raise CorpusError(corpus_dir, None, "corpus folder not found",
                          "pass --corpus DIR or set BEACON_CORPUS_DIR to a folder of .md files")
    files = []
    for p in sorted(corpus_dir.rglob("*")):
        rel = p.relative_to(corpus_dir)
        if any(part.startswith((".", "_")) for part in rel.parts) or not p.is_file():
            continue
        if p.name.lower() in SKIPPED_NAMES:
            continue
        files.append(p)
    return files


def _decode(path: Path, data: bytes) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise CorpusError(path, line, "file is not valid UTF-8 text", "re-save the file as UTF-8")
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise CorpusError(path, line, "file contains NUL bytes; it looks binary", "save it as plain UTF-8 text")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_document(path: Path, corpus_dir: Path) -> Document:
    """Parse one file; raises CorpusError naming the file and line of the first problem."""
    rel = path.relative_to(corpus_dir)
    shown = Path(corpus_dir.name) / rel
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise CorpusError(shown, None, f"unsupported file type '{suffix or path.name}'",
                          "Beacon reads .md and .txt files; convert it or move it out of the corpus folder")
    data = path.read_bytes()
    text = _decode(shown, data)
    if not text.strip():
        raise CorpusError(shown, 1, "file is empty", "write some content or delete the file")
    doc_id = rel.with_suffix("").as_posix()
    if suffix == ".txt":
        meta, sections = _read_text(text)
    else:
        raw_meta, body, body_line = parse_front_matter(shown, text)
        meta = read_metadata(shown, text, raw_meta)
        sections = split_sections(body, body_line, meta["title"])
        if not sections:
            raise CorpusError(shown, body_line, "document has no text after the front matter",
                              "add at least one paragraph below the closing '---'")
    return Document(
        doc_id=doc_id, path=rel.as_posix(), sections=tuple(sections),
        sha256=hashlib.sha256(data).hexdigest(), **meta,
    )


def _read_text(text: str) -> tuple[dict, list[Section]]:
    """Plain text: the first non-empty line is the title, the rest one section of paragraphs."""
    lines = text.split("\n")
    first = next(i for i, l in enumerate(lines) if l.strip())
    title = lines[first].strip()
    paragraphs = [" ".join(p.split()) for p in "\n".join(lines[first + 1:]).split("\n\n") if p.strip()]
    body = "\n".join(paragraphs) or title
    html = "".join(f"<p>{escape(p)}</p>\n" for p in (paragraphs or [title]))
    meta = {"title": title, "aliases": (), "tags": (), "links": (), "last_reviewed": None}
    return meta, [Section(heading_path=(), anchor=slugify(title), text=body, html=html, line=first + 1)]


def read_corpus(corpus_dir: Path) -> tuple[list[Document], list[CorpusError]]:
    """Read every file, collecting problems instead of stopping at the first."""
    corpus_dir = Path(corpus_dir)
    docs, errors = [], []
    for path in corpus_files(corpus_dir):
        try:
            docs.append(read_document(path, corpus_dir))
        except CorpusError as e:
            errors.append(e)
    return docs, errors


def load_corpus(corpus_dir: Path) -> list[Document]:
    """All documents of the corpus; raises the first CorpusError if any file is malformed."""
    docs, errors = read_corpus(corpus_dir)
    if errors:
        first = errors[0]
        if len(errors) > 1:
            first.hint = (first.hint or "") + f" ({len(errors) - 1} more problem(s): run 'beacon check')"
        raise first
    if not docs:
        raise CorpusError(corpus_dir, None, "corpus has no .md or .txt files", "add a Markdown file; see corpus/README.md")
    return docs
