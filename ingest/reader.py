"""Walk a corpus folder and turn each file into a Document with the reader registered for its type.

Files Beacon does not read are skipped and counted (`Skipped`), never an error, except under the
curated rules (a strict Site), where anything but Markdown and text is refused as it always was.
Files that are not safe to read (a symlink out of the folder, a FIFO, a name with control
characters) are refused and counted with their reason; see docs/security.md, 'Files Beacon reads'.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .errors import CorpusError, SkipFile
from .formats import Page, Source
from .html import read_html
from .limits import MAX_FILE_BYTES
from .markdown import read_markdown
from .models import Document
from .pdf import read_pdf
from .plaintext import read_text
from .rst import read_rst
from .site import CURATED, SITE_FILE, Site, load_site
from .text import printable

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
    refused: list[tuple[str, str]] = field(default_factory=list)  # (path, why): never safe to read
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
        if self.refused:
            by_reason = Counter(why for _, why in self.refused)
            out.append(
                f"refused {len(self.refused)} file(s) that are not safe to read: "
                + ", ".join(f"{why} {n}" for why, n in by_reason.most_common())
                + " (see --verbose)"
            )
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
        listed = [f"{p}: skipped: {why}" for why, paths in reasons for p in paths]
        listed += [f"{p}: include left out: not a file inside the folder" for p in self.includes]
        return listed + [f"{p}: skipped: {why}" for p, why in self.refused]

    def total(self) -> int:
        return len(self.unsupported) + len(self.excluded) + len(self.drafts) + len(self.noindex) + len(self.refused)


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _printable(text: str) -> str:
    """A path as a terminal can show it: bytes that are not UTF-8 as \\xNN, control characters escaped."""
    return printable(os.fsencode(text).decode("utf-8", "backslashreplace"))


def _shown(corpus_dir: Path, path: Path) -> str:
    return _printable((Path(corpus_dir.name) / path.relative_to(corpus_dir)).as_posix())


class _Refused(Exception):
    """A folder entry that is never read, and why (shown to the curator)."""


def _name_problem(rel: str) -> str | None:
    """A doc id must round-trip through a URL and JSON: a newline in it cut the /source/ route's match
    (the link 404ed), and bytes that are not UTF-8 could not even be hashed or written to the index."""
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:
        return "file name is not valid UTF-8"
    if _CONTROL.search(rel):
        return "file name has control characters (a newline, a tab...)"
    return None


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a plain file"


def _target(path: Path, root: Path) -> tuple[Path, os.stat_result]:
    """The regular file a folder entry reads, or _Refused. `root` is the resolved content folder.

    The rule (docs/security.md): a symlink is followed only to a file Beacon would read as content
    itself, inside the folder and not hidden; anything else (a link out of the folder, to /proc,
    dangling, looping) and every special file (a FIFO, a socket, a device) is refused, found with
    lstat/stat so a FIFO is never opened. A checkout or a tarball of someone else's site may carry such
    a link, and following one to /proc/self/environ published the builder's credentials."""
    info = path.lstat()
    if stat.S_ISLNK(info.st_mode):
        try:
            target = path.resolve(strict=True)
        except FileNotFoundError:
            raise _Refused("symlink whose target does not exist")
        except (RuntimeError, OSError):  # Python 3.11 says RuntimeError for a loop, 3.13 OSError(ELOOP)
            raise _Refused("symlink that loops")
        try:
            inside = target.relative_to(root)
        except ValueError:
            raise _Refused("symlink to a file outside the content folder")
        if any(part.startswith(".") for part in inside.parts) or any(p.startswith("_") for p in inside.parts[:-1]):
            raise _Refused("symlink to a hidden file")
        info = target.stat()
        if stat.S_ISDIR(info.st_mode):
            raise _Refused("symlink to a folder (folders are not followed)")
        path = target
    if not stat.S_ISREG(info.st_mode):
        raise _Refused(f"special file ({_kind(info.st_mode)}), not a regular file")
    return path, info


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
    root = corpus_dir.resolve()
    files, skipped = [], Skipped()
    for p in sorted(corpus_dir.rglob("*")):
        rel = p.relative_to(corpus_dir)
        if any(part.startswith((".", "_")) for part in rel.parts[:-1]) or p.name.startswith("."):
            continue
        try:
            if p.is_dir() and not p.is_symlink():
                continue
        except OSError:
            pass  # a name the system cannot stat (too long, say): _target refuses it below
        if p.name.startswith("_") and (site.strict or p.suffix.lower() not in readable):
            continue
        if p.name.lower() in SKIPPED_NAMES:
            continue
        try:
            why = _name_problem(rel.as_posix())
            if why:
                raise _Refused(why)
            _target(p, root)
        except _Refused as refused:
            skipped.refused.append((_shown(corpus_dir, p), str(refused)))
            continue
        except OSError as e:
            skipped.refused.append((_shown(corpus_dir, p), f"cannot be read: {e.strerror or e}"))
            continue
        if not site.included(rel.as_posix()):
            skipped.excluded.append(_shown(corpus_dir, p))
        elif p.suffix.lower() in readable or site.strict:  # strict: an unknown type is read, and refused
            files.append(p)
        else:
            skipped.unsupported.append(_shown(corpus_dir, p))
    return files, skipped


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
            f"Beacon reads {', '.join(_readable(site))} files here; convert it or move it out of the corpus folder",
        )
    data = _read_bytes(path, Path(corpus_dir).resolve(), shown, MAX_FILE_BYTES[suffix])
    if suffix != ".pdf" and b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise CorpusError(
            shown, line, "file contains NUL bytes; it looks binary, not text", "save it as UTF-8 text, or remove it"
        )
    source = Source(path=path, shown=shown, rel=rel.as_posix(), data=data, site=site)
    try:
        page = READERS[suffix](source)
    except (CorpusError, SkipFile):
        raise
    except Exception as e:
        # Third-party parsers (lexbor, pypdf, docutils, markdown-it) raise errors of every kind on a
        # hostile file; one such file must be that file's error line, never a traceback that stops
        # every build, even with on_error = "skip".
        raise CorpusError(
            shown,
            None,
            f"cannot read this file ({type(e).__name__}: {e})",
            "check that it opens in its usual program, or exclude it in beacon.toml",
        ) from e
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
        url=site.own_url(page.url) or site.page_url(rel.as_posix()),
        lang=page.lang or site.lang,
        description=page.description,
    )


def _read_bytes(path: Path, root: Path, shown: Path, limit: int) -> bytes:
    """The file's bytes, at most `limit`. The scan's verdict is checked again here (a checkout may change
    during a build), and the file is opened without following links or blocking, then fstat-ed, so
    nothing but the regular file the rule allows is ever read."""
    try:
        return _read_target(path, root, shown, limit)
    except OSError as e:  # permissions, a file removed mid-build: `check` and `build` say the same
        raise CorpusError(shown, None, f"cannot read the file: {e.strerror or e}", "check its permissions")


def _read_target(path: Path, root: Path, shown: Path, limit: int) -> bytes:
    try:
        target, info = _target(path, root)
    except _Refused as refused:
        raise CorpusError(shown, None, f"not read: {refused}", "see docs/security.md, 'Files Beacon reads'")
    too_big = CorpusError(
        shown,
        None,
        f"file is larger than the {limit // 1_000_000} MB Beacon reads for a {path.suffix.lower()} file "
        f"({info.st_size:,} bytes)",
        "split it into smaller files, or exclude it in beacon.toml",
    )
    if info.st_size > limit:
        raise too_big
    fd = os.open(target, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise CorpusError(shown, None, "not read: not a regular file", "see docs/security.md, 'Files Beacon reads'")
        data = f.read(limit + 1)
    if len(data) > limit:  # it grew after the stat
        raise too_big
    return data


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
    """The one error for a folder with nothing to index, for check, build and load alike."""
    types = " ".join(_readable(site))
    return CorpusError(
        corpus_dir,
        None,
        f"corpus has no files Beacon reads ({types})",
        "add a Markdown file (see corpus/README.md)"
        + ("" if site.strict else ", or check the include/exclude globs of beacon.toml"),
    )


def load_corpus(corpus_dir: Path, site: Site | None = None) -> list[Document]:
    """All documents of the corpus; raises the first CorpusError if any file is malformed."""
    site = site if site is not None else load_site(corpus_dir, default=CURATED)
    docs, errors = read_corpus(corpus_dir, site)
    if errors:
        raise first_error(errors)
    if not docs:
        raise no_documents_error(corpus_dir, site)
    return docs
