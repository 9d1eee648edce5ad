"""Plain data that leaves the ingest stage: documents, their sections, and chunks."""

from __future__ import annotations

from dataclasses import dataclass, field

# Between a title and its section, and between the headings of a section's path.
LABEL_SEPARATOR = " › "


@dataclass(frozen=True)
class Link:
    text: str
    url: str


@dataclass(frozen=True)
class Section:
    heading_path: tuple[str, ...]  # empty for the text before the first heading
    anchor: str  # unique within the document, used in permalinks
    text: str  # plain text, one paragraph or list item per line
    html: str  # rendered Markdown, raw HTML escaped
    line: int  # 1-based line in the source file where the section starts
    links: tuple[Link, ...] = ()  # inline links found in the section
    # Finer link targets inside the section: (line of `text`, id) for an element of the page that has
    # an id of its own, e.g. a Sphinx API entry (<dt id="str.split">) or an h4-h6 heading.
    targets: tuple[tuple[int, str], ...] = ()


@dataclass(frozen=True)
class Document:
    doc_id: str  # path under the corpus without extension, '/'-separated
    path: str  # path relative to the corpus root
    title: str
    aliases: tuple[str, ...]
    links: tuple[Link, ...]
    tags: tuple[str, ...]
    last_reviewed: str | None
    sections: tuple[Section, ...]
    sha256: str  # of the file's bytes, for staleness and incremental builds
    # Where the page lives on the site's own server (results link there, + '#anchor'); None: /source/{doc_id}.
    url: str | None = None
    lang: str | None = None  # the page's language (front matter, <html lang>, or the site's default)
    description: str | None = None


@dataclass(frozen=True)
class Chunk:
    id: str  # stable: doc_id + '#' + section anchor (+ '~n' for the n-th split part)
    doc_id: str
    title: str
    section: str  # heading path joined for display; the title when there is none
    anchor: str
    text: str
    links: tuple[Link, ...]
    aliases: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    position: int = 0  # order within the document
    # The id on the page where the passage starts, when finer than its section's (Section.targets);
    # a link to the site's own page uses it, /source/ pages (which show sections) do not.
    target: str = ""
    # Targets that start inside the passage: (offset in non-space characters of `text`, id). The
    # answer's link is the last one before its sentence (index.search.link_to_answer).
    targets: tuple[tuple[int, str], ...] = ()
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def label(self) -> str:
        """How a passage is cited: "Title › Section", or the title alone for a document's first section.
        The one definition for the page, the CLI and (by the API's title and section) the widget."""
        return self.title if self.section == self.title else f"{self.title}{LABEL_SEPARATOR}{self.section}"

    @property
    def embedding_head(self) -> str:
        """The title and heading the encoder reads before the passage's text."""
        return self.title if self.section == self.title else f"{self.title} — {self.section}"

    def embedding_text(self) -> str:
        """What the encoder sees: the title and heading give a passage its context."""
        return f"{self.embedding_head}: {self.text}"
