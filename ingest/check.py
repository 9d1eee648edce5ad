"""`beacon check`: every problem in a corpus, with file:line and a fix hint, without building."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

from markdown_it import MarkdownIt

from .chunking import chunk_document
from .errors import CorpusError, SkipFile
from .formats import Source
from .markdown import MARKDOWN, Includes, field_line, parse_front_matter, parse_optional_front_matter
from .models import LABEL_SEPARATOR, Document
from .reader import CorpusRead, no_documents_error, read_document, scan_corpus
from .site import CURATED, Site, load_site
from .text import WEB_SCHEMES

Severity = Literal["error", "warning"]
# A curated page's link to a document that does not exist would be published as a link to a 404, so
# `beacon build` refuses it as `check` does. Other errors of check are about style or are made safe
# by the build itself (a mailto: or javascript: link is published as its words only).
BROKEN_LINK = "broken-link"
BUILD_REFUSES = frozenset({BROKEN_LINK})
KNOWN_KEYS = {"title", "aliases", "links", "tags", "last_reviewed", "lang"}
# Outside the curated rules, the keys static-site generators (Hugo, Jekyll, MkDocs, Docusaurus) use
# are expected too; the first line are the ones Beacon reads (docs/curating.md).
SITE_KEYS = KNOWN_KEYS | {
    "description",
    "keywords",
    "slug",
    "permalink",
    "url",
    "lang",
    "draft",
    "date",
    "lastmod",
    "layout",
    "weight",
    "author",
    "authors",
    "categories",
    "summary",
    "sidebar_position",
    "sidebar_label",
    "nav_order",
    "parent",
    "toc",
    "hide",
    "template",
    "id",
    "image",
    "series",
    "type",
}
# On a site, these are ordinary links that the index leaves out; in the curated corpus they are errors.
_SITE_SCHEMES_OK = ("mailto", "tel")
# Sees every link as written, including those the reader's renderer drops (javascript:, data:, mailto:...).
_LINK_PARSER = MarkdownIt("commonmark", {"html": False, "linkify": False})
_LINK_PARSER.validateLink = lambda url: True
_DANGEROUS_SCHEMES = ("javascript", "vbscript", "data", "file")


@dataclass(frozen=True)
class Problem:
    path: str  # as shown to the curator: corpus folder name + path inside it
    line: int | None
    severity: Severity
    message: str
    hint: str | None = None
    rule: str = ""  # the rules `beacon build` refuses too are named (BUILD_REFUSES)

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        hint = f" (hint: {self.hint})" if self.hint else ""
        return f"{where}: {self.severity}: {self.message}{hint}"


def _shown(corpus_dir: Path, path: Path) -> str:
    return (Path(corpus_dir.name) / path.relative_to(corpus_dir)).as_posix()


def _from_error(e: CorpusError) -> Problem:
    return Problem(e.path, e.line, "error", e.problem, e.hint)


def _front_matter_problems(
    shown: str, text: str, known: set[str] = KNOWN_KEYS, parse=parse_front_matter
) -> list[Problem]:
    """Keys the reader ignores are most often typos of the ones it reads."""
    try:
        meta, _, _ = parse(Path(shown), text)
    except CorpusError:
        return []  # already reported by the reader
    out = []
    for i, line in enumerate(text.split("\n")[1:], start=2):
        key = line.split(":", 1)[0].strip()
        if line[:1] not in (" ", "-", "\t", "#") and ":" in line and key in meta and key not in known:
            out.append(
                Problem(
                    shown,
                    i,
                    "warning",
                    f"unknown front matter key '{key}' is ignored",
                    f"use one of: {', '.join(sorted(KNOWN_KEYS if known is KNOWN_KEYS else known - {'id'}))}",
                )
            )
    return out


def _body_links(text: str, parse=parse_front_matter) -> list[tuple[int, str]]:
    """(file line, href) of every inline Markdown link in the body."""
    try:
        _, body, body_line = parse(Path("x"), text)
    except CorpusError:
        return []
    out = []
    for tok in _LINK_PARSER.parse(body):
        if tok.type != "inline" or not tok.map:
            continue
        for child in tok.children or []:
            if child.type == "link_open":
                href = str(child.attrs.get("href", ""))
                # A link inside a paragraph: find the line that holds it, not just the paragraph's first.
                offset = next((n for n, l in enumerate(tok.content.split("\n")) if href in l or unquote(href) in l), 0)
                out.append((body_line + tok.map[0] + offset, href))
    return out


def _include_problems(shown: str, path: Path, corpus_dir: Path, text: str, site: Site) -> list[Problem]:
    """Snippet includes ('--8<-- "file"', '{* file *}') whose file is not inside the folder: left out."""
    try:
        _, body, body_line = parse_optional_front_matter(Path(shown), text)
    except CorpusError:
        return []
    rel = path.relative_to(corpus_dir).as_posix()
    includes = Includes(Source(path=path, shown=Path(shown), rel=rel, data=b"", site=site))
    return [
        Problem(
            shown,
            body_line + n,
            "warning",
            f"include '{name}' is not a file inside the folder; it is left out of the page",
            "copy the file into the folder Beacon reads, or point Beacon at the folder that holds both",
        )
        for n, name in includes.lines(body)
        if includes.read(name) is None
    ]


def _link_problems(
    shown: str,
    doc_path: Path,
    corpus_dir: Path,
    text: str,
    doc_ids: set[str],
    parse=parse_front_matter,
    strict: bool = True,
) -> list[Problem]:
    out = []
    for line, href in _body_links(text, parse):
        parts = urlsplit(href)
        if parts.scheme:
            if parts.scheme.lower() in _DANGEROUS_SCHEMES:
                out.append(
                    Problem(
                        shown,
                        line,
                        "error",
                        f"link '{href}' uses the dangerous {parts.scheme}: scheme",
                        "it is never published (readers see only its words); remove the link",
                    )
                )
            elif parts.scheme.lower() not in WEB_SCHEMES:
                out.append(
                    Problem(
                        shown,
                        line,
                        "error",
                        f"link '{href}' is not an http(s) address",
                        "only http:// and https:// links are published; write the contact as plain text",
                    )
                )
            continue
        if not parts.path:
            continue  # '#anchor' within the same document
        target = _internal_target(parts.path, doc_path, corpus_dir)
        if target is None:
            continue
        if target not in doc_ids and strict:
            out.append(
                Problem(
                    shown,
                    line,
                    "error",
                    f"link '{href}' points at a document that does not exist",
                    f"no corpus document has the id '{target}' (its path without extension); "
                    "fix the link, or write it as /source/<id>",
                    BROKEN_LINK,
                )
            )
        elif target not in doc_ids:
            # Someone else's docs: the link may work on their site (a file beside the folder, a page
            # the generator makes); Beacon only cannot follow it, and build goes ahead.
            out.append(
                Problem(
                    shown,
                    line,
                    "warning",
                    f"link '{href}' points at a file that is not among the pages Beacon reads",
                    "readers of Beacon's copy cannot follow it; if the file should be searchable, "
                    "include its folder (or check the site's include/exclude globs)",
                )
            )
    return out


def _internal_target(path: str, doc_path: Path, corpus_dir: Path) -> str | None:
    """The doc id a relative .md link or a /source/ link names; None for anything else."""
    path = unquote(path)
    if path.startswith("/source/"):
        return path[len("/source/") :].strip("/")
    if path.startswith("/") or not path.lower().endswith((".md", ".markdown", ".txt")):
        return None
    resolved = (doc_path.parent / path).resolve()
    try:
        rel = resolved.relative_to(corpus_dir.resolve())
    except ValueError:
        return path  # outside the corpus: never a document, so always reported
    return rel.with_suffix("").as_posix()


def _empty_section_problems(shown: str, text: str, parse=parse_front_matter) -> list[Problem]:
    """A heading with no text before the next heading of the same or a higher level."""
    try:
        _, body, body_line = parse(Path(shown), text)
    except CorpusError:
        return []
    tokens = MARKDOWN.parse(body)
    heads = [(i, int(t.tag[1]), t.map[0]) for i, t in enumerate(tokens) if t.type == "heading_open" and t.map]
    out = []
    for n, (i, level, line) in enumerate(heads):
        nxt = heads[n + 1] if n + 1 < len(heads) else None
        if nxt is not None and nxt[1] > level:
            continue  # a parent heading whose text lives in its subsections
        end = nxt[0] if nxt else len(tokens)
        has_text = any(
            (t.type == "inline" or t.type in ("fence", "code_block")) and t.content.strip() for t in tokens[i + 3 : end]
        )  # a section of code alone is indexed too
        if not has_text:
            out.append(
                Problem(
                    shown,
                    body_line + line,
                    "warning",
                    f"section '{tokens[i + 1].content.strip()}' is empty and will not be indexed",
                    "write a paragraph under the heading, or remove it",
                )
            )
    return out


def _long_section_problems(
    shown: str, doc: Document, max_tokens: int, count_tokens: Callable[[str], int]
) -> list[Problem]:
    out = []
    chunks = chunk_document(doc, max_tokens, count_tokens)
    for section in doc.sections:
        parts = sum(1 for c in chunks if c.anchor == section.anchor)
        if parts > 1:
            name = LABEL_SEPARATOR.join(section.heading_path) or doc.title
            out.append(
                Problem(
                    shown,
                    section.line,
                    "warning",
                    f"section '{name}' is too long to embed in one piece ({parts} parts of at most "
                    f"{max_tokens} tokens)",
                    "split it under two headings, each under about 200 words, so each passage keeps its context",
                )
            )
    return out


def check_corpus(
    corpus_dir: Path,
    max_tokens: int | None = None,
    count_tokens: Callable[[str], int] | None = None,
    site: Site | None = None,
    outcome: CorpusRead | None = None,
    documents: list[Document] | None = None,
) -> list[Problem]:
    """All problems, files in corpus order. The length rule runs only when a token counter is given.

    Without a Site, the corpus's own beacon.toml is used if it has one, else the curated rules.
    Skipped files are counted in `outcome` when one is given. Under a lenient Site, rules about
    a curated corpus's style (unknown front matter keys, shared titles, links) are warnings. The
    documents read are added to `documents` when one is given (for index_plan)."""
    corpus_dir = Path(corpus_dir)
    outcome = outcome if outcome is not None else CorpusRead()
    try:
        site = site if site is not None else load_site(corpus_dir, default=CURATED)
        files, outcome.skipped = scan_corpus(corpus_dir, site)
    except CorpusError as e:
        return [_from_error(e)]
    outcome.files = len(files)
    if not files:
        e = no_documents_error(corpus_dir, site)
        return [Problem(corpus_dir.name, None, "error", e.problem, e.hint)]
    docs: dict[Path, Document] = {}
    problems: list[Problem] = []
    for path in files:
        try:
            docs[path] = read_document(path, corpus_dir, site, outcome.skipped)
        except CorpusError as e:
            problems.append(_from_error(e))
        except SkipFile as skip:
            (outcome.skipped.drafts if skip.reason == "draft" else outcome.skipped.noindex).append(
                _shown(corpus_dir, path)
            )
    if documents is not None:
        documents.extend(docs.values())
    doc_ids = {d.doc_id for d in docs.values()}
    seen_ids: dict[str, str] = {}
    seen_titles: dict[str, str] = {}
    style = "error" if site.strict else "warning"
    parse = parse_front_matter if site.strict else parse_optional_front_matter
    for path in files:
        shown = _shown(corpus_dir, path)
        doc = docs.get(path)
        if doc is None:
            continue
        markdown = _is_markdown(path)
        text = _text(path) if markdown else ""
        if doc.doc_id in seen_ids:
            problems.append(
                Problem(
                    shown,
                    None,
                    "error",
                    f"document id '{doc.doc_id}' is also used by {seen_ids[doc.doc_id]}",
                    "rename one of the files: the id is the path without its extension",
                )
            )
        seen_ids.setdefault(doc.doc_id, shown)
        title = doc.title.casefold()
        if title in seen_titles:
            line = field_line(text, "title") if markdown else (1 if path.suffix.lower() == ".txt" else None)
            problems.append(
                Problem(
                    shown,
                    line,
                    style,
                    f"title '{doc.title}' is also used by {seen_titles[title]}",
                    "give each document its own title so readers can tell the sources apart",
                )
            )
        seen_titles.setdefault(title, shown)
        if markdown:
            problems += _front_matter_problems(shown, text, KNOWN_KEYS if site.strict else SITE_KEYS, parse)
            problems += [
                p
                for p in _link_problems(shown, path, corpus_dir, text, doc_ids, parse, site.strict)
                if site.strict or not p.message.startswith(tuple(f"link '{s}:" for s in _SITE_SCHEMES_OK))
            ]
            problems += _empty_section_problems(shown, text, parse)
            if not site.strict:
                problems += _include_problems(shown, path, corpus_dir, text, site)
        if max_tokens and count_tokens and site.strict:  # a style rule for curated text, not for a built site
            problems += _long_section_problems(shown, doc, max_tokens, count_tokens)
    order = {_shown(corpus_dir, p): n for n, p in enumerate(files)}
    return sorted(problems, key=lambda p: (order.get(p.path, -1), p.line or 0))


# How many passages the encoder is timed on for the build estimate: enough to steady the rate (the
# first batch pays for warming up and is not counted), few enough that check stays quick (about 1 s
# for all-MiniLM-L6-v2 on 2 CPU cores).
RATE_SAMPLE = 32


def index_plan(
    documents: list[Document],
    max_tokens: int | None = None,
    count_tokens: Callable[[str], int] | None = None,
    encode: Callable[[list[str]], object] | None = None,
) -> list[str]:
    """What `beacon build` would index, and how long it would take on this machine: documents per
    file type; with a token counter, the passages; with the encoder, an estimated build time, from
    a rate measured now by encoding a sample of the passages (a build embeds each passage once, its
    sentence vectors coming from the same forward pass)."""
    types = Counter(Path(d.path).suffix.lower() or "(no extension)" for d in documents)
    kinds = ", ".join(f"{t} {n}" for t, n in types.most_common())
    head = f"would index {len(documents)} document(s) ({kinds})" if documents else "would index no documents"
    if not (documents and max_tokens and count_tokens):
        return [head]
    chunks = [c for d in documents for c in chunk_document(d, max_tokens, count_tokens)]
    lines = [f"{head} as {len(chunks)} passage(s)"]
    if encode is None:
        return lines
    texts = [c.embedding_text() for c in chunks]
    # Spread over the site, so long and short passages are both in it.
    sample = texts[:: max(1, len(texts) // (RATE_SAMPLE + 1))][: RATE_SAMPLE + 1]
    encode(sample[:1])  # loads and warms the model; not part of the rate
    started = time.perf_counter()
    encode(sample[1:] or sample)
    rate = max(len(sample[1:] or sample), 1) / max(time.perf_counter() - started, 1e-6)
    seconds = len(texts) / rate
    shown = f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"
    lines.append(
        f"estimated build time on this machine: about {shown} (the passages at {rate:.1f} a second, "
        f"the rate measured on {len(sample[1:] or sample)} of them now; an estimate: a rebuild embeds only what changed)"
    )
    return lines


def build_refusals(corpus_dir: Path, site: Site, ids: dict[str, str]) -> list[Problem]:
    """The problems `beacon build` stops on beyond a file it cannot read: check's BUILD_REFUSES rules, over
    the documents the build has already read ({path under the corpus: id}), so none is parsed again
    (a Markdown file's text is read once more, for the lines its links are on)."""
    corpus_dir = Path(corpus_dir)
    parse = parse_front_matter if site.strict else parse_optional_front_matter
    doc_ids = set(ids.values())
    out: list[Problem] = []
    for rel in ids:
        path = corpus_dir / rel
        if _is_markdown(path):
            links = _link_problems(_shown(corpus_dir, path), path, corpus_dir, _text(path), doc_ids, parse, site.strict)
            out += [p for p in links if p.rule in BUILD_REFUSES]
    return out


def _is_markdown(path: Path) -> bool:
    return path.suffix.lower() in (".md", ".markdown")


def _text(path: Path) -> str:
    """A Markdown file's text as its rules read it."""
    return path.read_text(encoding="utf-8-sig").replace("\r\n", "\n")
