"""Walk a corpus folder and turn each file into a Document with the reader registered for its type.

Files Beacon does not read are skipped and counted (`Skipped`), never an error, except under the
curated rules (a strict Site), where anything but Markdown and text is refused as it always was.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .errors import CorpusError, SkipFile
from .formats import Page, Source
from .html import read_html
from .markdown import read_markdown
from .models import Document
from .pdf import read_pdf
from .plaintext import read_text
from .rst import read_rst
from .site import CURATED, SITE_FILE, Site, load_site

# The registry: one reader per file type, each giving back a Page.
READERS: dict[str, Callable[[Source], Page]] = {
    ".md": read_markdown,
    ".markdown": read_markdown,
    ".txt": read_text,
    ".html": read_html,
    ".htm": read_html,
    ".pdf": read_pdf,
    ".rst": read_rst,
}
# What the curated rules (a strict Site) read: every other file there is an error.
CURATED_TYPES = (".md", ".markdown", ".txt")
SUPPORTED = CURATED_TYPES  # kept for callers of the old name
# The site file is Beacon's, not content. A README is a folder's page (GitHub shows it as one); a corpus
# whose README is a note to its curators leaves it out with its own exclude glob (corpus/beacon.toml).
SKIPPED_NAMES = {SITE_FILE}


def _readable(site: Site) -> tuple[str, ...]:
    return CURATED_TYPES if site.strict else tuple(READERS)


@dataclass
class Skipped:
    """Files left out, by reason, as paths shown to the curator (corpus name + path)."""

    unsupported: list[str] = field(default_factory=list)  # a type Beacon does not read
    excluded: list[str] = field(default_factory=list)  # the site's include/exclude globs
    drafts: list[str] = field(default_factory=list)  # front matter 'draft: true'
    noindex: list[str] = field(default_factory=list)  # <meta name="robots" content="noindex">
    # Includes left out of a page ('--8<-- "file"', '{* file *}' naming a file outside the folder), as
    # 'page: file'; not files, so not in total().
    includes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """One summary line per reason, e.g. 'skipped 31 files: .png 12, .gz 15, .dot 4'."""
        out = []
        if self.unsupported:
            by_type = Counter(Path(p).suffix.lower() or "(no extension)" for p in self.unsupported)
            out.append(
                f"skipped {len(self.unsupported)} file(s) Beacon does not read: "
                + ", ".join(f"{t} {n}" for t, n in by_type.most_common())
            )
        if self.excluded:
            out.append(f"left out {len(self.excluded)} file(s) by the site's include/exclude globs")
        if self.drafts:
            out.append(f"skipped {len(self.drafts)} draft(s) (draft: true)")
        if self.noindex:
            out.append(f"skipped {len(self.noindex)} page(s) marked noindex")
        if self.includes:
            out.append(f"left out {len(self.includes)} include(s) of files outside the folder (--verbose lists them)")
        return out

    def listing(self) -> list[str]:
        """Every skipped file with its reason, for --verbose."""
        reasons = (
            ("not a type Beacon reads", self.unsupported),
            ("excluded by the site's globs", self.excluded),
            ("draft", self.drafts),
            ("noindex", self.noindex),
        )
        return [f"{p}: skipped: {why}" for why, paths in reasons for p in paths] + [
            f"{p}: include left out: not a file inside the folder" for p in self.includes
        ]

    def total(self) -> int:
        return len(self.unsupported) + len(self.excluded) + len(self.drafts) + len(self.noindex)


def _shown(corpus_dir: Path, path: Path) -> str:
    return (Path(corpus_dir.name) / path.relative_to(corpus_dir)).as_posix()


def scan_corpus(corpus_dir: Path, site: Site = CURATED) -> tuple[list[Path], Skipped]:
    """The files to read, in a stable order, and those left out. Hidden files and folders, folders
    starting with '_' (Sphinx's _static, _sources) and the site file are never content and are not
    counted; nor are files starting with '_' (Beacon's own _scope.yaml,
    _synonyms.yaml), except pages a lenient site reads: Sphinx names module pages __main__.html,
    __future__.html and _thread.html, and leaving them out dropped them silently."""
    corpus_dir = Path(corpus_dir)
    if not corpus_dir.is_dir():
        raise CorpusError(
            corpus_dir,
            None,
            "corpus folder not found",
            "pass --corpus DIR or set BEACON_CORPUS_DIR to a folder of .md files",
        )
    readable = _readable(site)
    files, skipped = [], Skipped()
    for p in sorted(corpus_dir.rglob("*")):
        rel = p.relative_to(corpus_dir)
        if any(part.startswith((".", "_")) for part in rel.parts[:-1]) or p.name.startswith(".") or not p.is_file():
            continue
        if p.name.startswith("_") and (site.strict or p.suffix.lower() not in readable):
            continue
        if p.name.lower() in SKIPPED_NAMES:
            continue
        if not site.included(rel.as_posix()):
            skipped.excluded.append(_shown(corpus_dir, p))
        elif p.suffix.lower() in readable or site.strict:  # strict: an unknown type is read, and refused
            files.append(p)
        else:
            skipped.unsupported.append(_shown(corpus_dir, p))
    return files, skipped


def corpus_files(corpus_dir: Path, site: Site = CURATED) -> list[Path]:
    """Every file the corpus reads (see scan_corpus)."""
    return scan_corpus(corpus_dir, site)[0]


def read_document(path: Path, corpus_dir: Path, site: Site = CURATED, skipped: Skipped | None = None) -> Document:
    """Parse one file; raises CorpusError naming the file and line of the first problem, or
    SkipFile for a page its author left out (a draft, noindex). Includes left out go to `skipped`."""
    rel = path.relative_to(corpus_dir)
    shown = Path(corpus_dir.name) / rel
    suffix = path.suffix.lower()
    if suffix not in _readable(site):
        raise CorpusError(
            shown,
            None,
            f"unsupported file type '{suffix or path.name}'",
            "Beacon reads .md and .txt files; convert it or move it out of the corpus folder",
        )
    data = path.read_bytes()
    source = Source(path=path, shown=shown, rel=rel.as_posix(), data=data, site=site)
    page = READERS[suffix](source)
    if skipped is not None:
        skipped.includes.extend(f"{shown.as_posix()}: {name}" for name in source.dropped)
    return Document(
        doc_id=rel.with_suffix("").as_posix(),
        path=rel.as_posix(),
        title=page.title,
        aliases=page.aliases,
        links=page.links,
        tags=page.tags,
        last_reviewed=page.last_reviewed,
        sections=page.sections,
        sha256=hashlib.sha256(data).hexdigest(),
        url=page.url or site.page_url(rel.as_posix()),
        lang=page.lang or site.lang,
        description=page.description,
    )


@dataclass
class CorpusRead:
    """The outcome of reading a whole corpus, for `check` and `build` to report."""

    errors: list[CorpusError] = field(default_factory=list)
    skipped: Skipped = field(default_factory=Skipped)
    files: int = 0
    done: int = 0  # files handled so far (read, failed or skipped), for a progress bar


def iter_documents(corpus_dir: Path, site: Site, outcome: CorpusRead) -> Iterator[Document]:
    """Documents one at a time, so a big site is never held in memory as a whole; problems and
    skipped files are collected in `outcome` as the walk goes. The folder is scanned at the call,
    so `outcome.files` (a progress bar's total) is known before the first document is read."""
    corpus_dir = Path(corpus_dir)
    files, outcome.skipped = scan_corpus(corpus_dir, site)
    outcome.files = len(files)
    return _read_each(files, corpus_dir, site, outcome)


def _read_each(files: list[Path], corpus_dir: Path, site: Site, outcome: CorpusRead) -> Iterator[Document]:
    for path in files:
        document = None
        try:
            document = read_document(path, corpus_dir, site, outcome.skipped)
        except CorpusError as e:
            outcome.errors.append(e)
        except SkipFile as s:
            (outcome.skipped.drafts if s.reason == "draft" else outcome.skipped.noindex).append(
                _shown(corpus_dir, path)
            )
        except OSError as e:
            outcome.errors.append(
                CorpusError(
                    _shown(corpus_dir, path), None, f"cannot read the file: {e.strerror or e}", "check its permissions"
                )
            )
        outcome.done += 1
        if document is not None:
            yield document


def read_corpus(corpus_dir: Path, site: Site | None = None) -> tuple[list[Document], list[CorpusError]]:
    """Read every file, collecting problems instead of stopping at the first. Without a Site, the
    corpus's own beacon.toml is used if it has one, else the curated rules."""
    site = site if site is not None else load_site(corpus_dir, default=CURATED)
    outcome = CorpusRead()
    docs = list(iter_documents(corpus_dir, site, outcome))
    return docs, outcome.errors


def first_error(errors: list[CorpusError]) -> CorpusError:
    """The first problem, its hint counting the others."""
    first = errors[0]
    if len(errors) > 1:
        first.hint = (first.hint or "") + f" ({len(errors) - 1} more problem(s): run 'beacon check')"
    return first


def no_documents_error(corpus_dir: Path, site: Site) -> CorpusError:
    types = " ".join(_readable(site))
    return CorpusError(
        corpus_dir,
        None,
        f"corpus has no files Beacon reads ({types})",
        "add a Markdown file (see corpus/README.md), or check the include/exclude globs of beacon.toml",
    )


def load_corpus(corpus_dir: Path, site: Site | None = None) -> list[Document]:
    """All documents of the corpus; raises the first CorpusError if any file is malformed."""
    site = site if site is not None else load_site(corpus_dir, default=CURATED)
    docs, errors = read_corpus(corpus_dir, site)
    if errors:
        raise first_error(errors)
    if not docs:
        if site.strict:
            raise CorpusError(
                corpus_dir, None, "corpus has no .md or .txt files", "add a Markdown file; see corpus/README.md"
            )
        raise no_documents_error(corpus_dir, site)
    return docs
