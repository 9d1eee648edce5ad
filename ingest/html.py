"""Read one built HTML page (.html, .htm) from a static-site generator's output folder.

The main content is the element marked `data-beacon-body`, else `main`, `[role=main]` or `article`,
else `body`. Site chrome inside it is dropped (`CHROME`), hidden parts and anything marked
`data-beacon-ignore` too. Sections start at h1-h3 and keep the page's own ids, so results link to
the right place; ids inside a section (an API entry's `<dt id>`, an h4-h6) are kept as finer link
targets for the passages that start there. Parsed with selectolax (lexbor): ~10x faster than lxml +
a Python walk on Python's own docs (docs/performance.md).
"""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser, LexborNode

from .errors import CorpusError, SkipFile
from .formats import Anchors, Page, Source, paragraphs_html, title_from_name
from .limits import MAX_HTML_DEPTH
from .models import Section
from .text import slugify

# Never content: semantic chrome, code that is not shown, hidden parts, and opt-outs.
DROP = (
    "nav, header, footer, aside, script, style, template, noscript, svg, button, form, "
    "[hidden], [aria-hidden=true], [data-beacon-ignore]"
)
# Chrome of well-known generators that is not marked by a semantic element. Sphinx: the ¶ permalink
# after each heading, the sidebar and the prev/next bars; MkDocs Material: the sidebars and the
# "last updated" line; Docusaurus: the breadcrumbs, the mobile table of contents and the edit link.
CHROME = (
    "a.headerlink, div.sphinxsidebar, div.related, div.footer, .md-sidebar, .md-source-file, "
    ".theme-doc-breadcrumbs, .theme-doc-toc-mobile, .theme-edit-url, .theme-doc-footer"
)
_MAIN = ("[data-beacon-body]", "main", "[role=main]", "article")
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3}
# Not sections of their own (an API page would become thousands of one-line sections), but places a
# passage's link can point at: a definition term with an id (Sphinx's API entries, glossary terms,
# command-line options) and the minor headings.
_TARGETS = {"dt", "h4", "h5", "h6"}
# Elements that end a line of text; everything else (a, b, code, span, ...) flows inline.
_BLOCKS = {
    "p",
    "div",
    "section",
    "article",
    "main",
    "li",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "table",
    "tr",
    "thead",
    "tbody",
    "blockquote",
    "figure",
    "figcaption",
    "h4",
    "h5",
    "h6",
    "br",
    "hr",
    "details",
    "summary",
    "caption",
    "address",
}
_CELLS = {"td", "th"}
_CHARSET = re.compile(rb"""<meta[^>]+charset=["']?([\w-]+)""", re.I)


def _decode(src: Source) -> str:
    try:
        return src.data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        declared = _CHARSET.search(src.data[:2048])
        if declared and declared.group(1).lower() not in (b"utf-8", b"utf8"):
            try:
                return src.data.decode(declared.group(1).decode("ascii"))
            except (LookupError, UnicodeError):  # charset="undefined" is a codec that always raises UnicodeError
                pass
        line = src.data[: e.start].count(b"\n") + 1
        raise CorpusError(
            src.shown,
            line,
            "page is not valid UTF-8 and declares no charset that decodes it",
            "save it as UTF-8, or give it a <meta charset=...> that matches its bytes",
        )


# Counting how deep a page nests, before lexbor builds its tree: comments and script/style bodies are
# passed over; void elements, those whose end tag may be left out (p, li, td...) and self-closing ones
# are not counted, so valid pages that never close their paragraphs are not taken for deep ones.
_NOT_TAGS = re.compile(r"<!--.*?-->|<(script|style|textarea)\b.*?</\1\s*>", re.S | re.I)
_FLAT = (
    "area|base|br|col|embed|hr|img|input|link|meta|param|source|track|wbr|"
    "p|li|dt|dd|tr|td|th|thead|tbody|tfoot|colgroup|caption|option|optgroup|rt|rp|html|head|body"
)
_NESTING_TAG = re.compile(rf"<(/?)(?!(?:{_FLAT})[\s/>])[a-zA-Z][a-zA-Z0-9:-]*[^>]*(?<!/)>", re.I)


def _check_depth(src: Source, text: str) -> None:
    """Refuse a page nested deeper than MAX_HTML_DEPTH. Python's 530 pages (50 MB) nest at most 17 deep;
    counting took 3.5 s for them, about lexbor's own parse (2.9 s), on the loaded 2-core build machine."""
    depth = 0
    for close in _NESTING_TAG.findall(_NOT_TAGS.sub("", text)):
        if close:
            depth = depth - 1 if depth else 0
            continue
        depth += 1
        if depth > MAX_HTML_DEPTH:
            raise CorpusError(
                src.shown,
                None,
                f"page has elements nested more than {MAX_HTML_DEPTH} elements deep; Beacon does not read it",
                f"browsers stop nesting at {MAX_HTML_DEPTH} as well; check the page for unclosed tags, or exclude it",
            )


class _Sections:
    """Collects text into sections while the page is walked in document order."""

    def __init__(self, title: str):
        self.title = title
        self.done: list[tuple[tuple[str, ...], str | None, list[str], list[tuple[int, str]]]] = []
        self.path: tuple[str, ...] = ()
        self.levels: list[int] = []
        self.anchor: str | None = None
        self.lines: list[str] = []
        self.current: list[str] = []
        self.pending_id: str | None = None  # Sphinx puts a heading's id on its enclosing <section>
        self.targets: list[tuple[int, str]] = []  # (line, id) in this section
        self.next_target: str | None = None  # the id of the element whose text starts the next line

    def text(self, words: str) -> None:
        self.current.append(words)

    def end_line(self) -> None:
        line = " ".join("".join(self.current).split())
        if line:
            self.lines.append(line)
            self.pending_id = None
            if self.next_target:
                self.targets.append((len(self.lines) - 1, self.next_target))
                self.next_target = None
        self.current = []

    def heading(self, level: int, words: str, anchor: str | None) -> None:
        self.end_line()
        self.done.append((self.path, self.anchor, self.lines, self.targets))
        # The page's title heading stands for the page itself: its section has no heading path.
        while self.levels and self.levels[-1] >= level:
            self.levels.pop()
            self.path = self.path[:-1]
        if not (level == 1 and not self.levels and words == self.title):
            self.levels.append(level)
            self.path = self.path + (words,)
        self.anchor = anchor or self.pending_id
        self.pending_id = self.next_target = None
        self.lines, self.targets = [], []

    def target(self, anchor: str) -> None:
        self.end_line()
        self.next_target = anchor

    def finish(self) -> list[tuple[tuple[str, ...], str | None, list[str], list[tuple[int, str]]]]:
        self.end_line()
        self.done.append((self.path, self.anchor, self.lines, self.targets))
        return [s for s in self.done if s[2]]


def _hidden(node: LexborNode) -> bool:
    style = node.attributes.get("style")
    return bool(style and _HIDDEN_STYLE.search(style))


def _heading_id(node: LexborNode) -> str | None:
    if node.attributes.get("id"):
        return node.attributes["id"]
    inner = node.css_first("[id], a[name]")
    return (inner.attributes.get("id") or inner.attributes.get("name")) if inner is not None else None


def _walk(node: LexborNode, out: _Sections) -> None:
    for child in node.iter(include_text=True):
        tag = child.tag
        if tag == "-text":
            out.text(child.text_content or "")
            continue
        if tag in ("-comment", "!doctype") or _hidden(child):
            continue
        if tag in _HEADINGS:
            words = " ".join(child.text(deep=True, separator="").split())
            if words:
                out.heading(_HEADINGS[tag], words, _heading_id(child))
            continue
        if tag == "pre":
            # Code is kept (people search for function names), one block to a line, so that every
            # line of code does not become a sentence of its own.
            out.end_line()
            out.text(child.text(deep=True, separator=""))
            out.end_line()
            continue
        if tag in _TARGETS:
            anchor = child.attributes.get("id") if tag == "dt" else (_heading_id(child) or out.pending_id)
            if anchor:
                out.target(anchor)
        if child.attributes.get("id") and tag in ("section", "div", "span", "a"):
            if out.pending_id is None or tag in ("section", "div"):
                out.pending_id = child.attributes["id"]
        block = tag in _BLOCKS
        if block:
            out.end_line()
        _walk(child, out)
        if block:
            out.end_line()
        elif tag in _CELLS:
            out.text(" ")


def read_html(src: Source) -> Page:
    text = _decode(src)
    if not text.strip():
        raise CorpusError(src.shown, 1, "file is empty", "write some content or delete the file")
    _check_depth(src, text)
    tree = LexborHTMLParser(text)
    robots = tree.css_first("meta[name=robots]")
    if robots is not None and "noindex" in (robots.attributes.get("content") or "").lower():
        raise SkipFile("noindex")
    html_tag = tree.css_first("html")
    lang = (html_tag.attributes.get("lang") or None) if html_tag is not None else None
    canonical = tree.css_first("link[rel=canonical]")
    href = (canonical.attributes.get("href") or "").strip() if canonical is not None else ""
    # Sphinx without html_baseurl writes file:// canonical links: only a web address is a public URL.
    url = href if re.match(r"^https?://", href, re.I) else None
    description = tree.css_first("meta[name=description]")
    description = (description.attributes.get("content") or "").strip() or None if description is not None else None
    title_tag = tree.css_first("title")
    root = next((n for n in (tree.css_first(s) for s in _MAIN) if n is not None), None) or tree.body
    if root is None:
        raise CorpusError(src.shown, None, "page has no <body>", "check that it is an HTML page")
    for selector in (DROP, CHROME):
        for node in root.css(selector):
            node.decompose()
    h1 = root.css_first("h1")
    title = (
        (" ".join(h1.text(deep=True, separator="").split()) if h1 is not None else "")
        or (" ".join(title_tag.text().split()) if title_tag is not None else "")
        or title_from_name(src.rel)
    )
    collector = _Sections(title)
    _walk(root, collector)
    sections, anchors = [], Anchors()
    for path, anchor, lines, targets in collector.finish():
        sections.append(
            Section(
                heading_path=path,
                anchor=anchors.unique(anchor or (slugify(path[-1]) if path else slugify(title))),
                text="\n".join(lines),
                html=paragraphs_html(lines),
                line=1,
                targets=tuple(targets),
            )
        )
    if not sections:
        raise CorpusError(
            src.shown,
            None,
            "page has no text in its main content",
            "mark the content with data-beacon-body, or exclude the page in beacon.toml",
        )
    return Page(title=title, sections=tuple(sections), url=url, lang=lang, description=description)
