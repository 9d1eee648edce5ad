"""Read one built HTML page (.html, .htm) from a static-site generator's output folder.

The main content is the site file's `content` selector, else the element marked `data-beacon-body`,
else the one `article` of `main`/`[role=main]` or that element itself, else the element that holds
most of the page's words (`_densest`). Site chrome inside it is dropped: semantic elements, the
generators' own classes (`CHROME`), the site file's `ignore` selectors, blocks that are mostly
links (`_is_navigation`), heading permalinks, hidden parts and anything marked `data-beacon-ignore`.
Sections start at h1-h3 and keep the page's own ids, so results link to the right place; ids inside
a section (an API entry's `<dt id>`, an h4-h6) are kept as finer link targets for the passages that
start there. Code blocks are kept as fenced lines ("```lang", the code verbatim, "```"). Parsed with
selectolax (lexbor): ~10x faster than lxml + a Python walk on Python's own docs (docs/performance.md).
"""

from __future__ import annotations

import re
from html import escape
from pathlib import PurePosixPath

from selectolax.lexbor import LexborHTMLParser, LexborNode

from .errors import CorpusError, SkipFile
from .formats import Anchors, Page, Source, title_from_name
from .limits import MAX_HTML_DEPTH
from .models import Section
from .text import slugify, solid_length

# Never content: semantic chrome (a page-level <header> is dropped apart, see _drop_chrome), code
# that is not shown, hidden parts, and opt-outs.
DROP = (
    "nav, footer, aside, script, style, template, noscript, svg, button, form, "
    "[role=navigation], [role=banner], [role=contentinfo], [role=search], [role=complementary], "
    "[hidden], [aria-hidden=true], [data-beacon-ignore]"
)
# Chrome of well-known generators that is not marked by a semantic element. Sphinx: the ¶ permalink
# after each heading, the "[source]" and "[docs]" links of its viewcode extension, the sidebar and the
# prev/next bars, line numbers of code; PyData: the
# breadcrumbs, "On this page" and "Show Source"; MkDocs Material: the sidebars and the "last updated"
# line; Docusaurus: the breadcrumbs, the mobile table of contents and the edit link; Docsy: the page
# meta links and the feedback box; mdBook: the chapter arrows; Jekyll's just-the-docs: the
# breadcrumbs. Permalinks of other generators are dropped by what they are (_is_permalink).
CHROME = (
    "a.headerlink, div.sphinxsidebar, div.related, div.footer, .linenos, .linenodiv, .viewcode-link, "
    ".viewcode-back, "
    ".bd-header-article, .bd-sidebar-secondary, .prev-next-area, .prev-next-footer, "
    ".md-sidebar, .md-source-file, "
    ".theme-doc-breadcrumbs, .theme-doc-toc-mobile, .theme-edit-url, .theme-doc-footer, "
    ".td-page-meta, .td-page-meta__lastmod, .td-toc, .td-breadcrumbs, "
    ".feedback--title, .feedback--question, .feedback--answer, .feedback--response, "
    ".nav-chapters, .mobile-nav-chapters, .breadcrumb-nav, .anchor-heading, "
    # Sphinx's generated index pages (genindex, py-modindex): a list of names, each a link to where it
    # is explained; the page is left out with them (read_html).
    "table.indextable, .genindex-jumpbox, .modindex-jumpbox"
)
# Sphinx's search page (every theme) and MkDocs's: its results are written by script, it has no words of its own.
_SEARCH_PAGE = "#search-results, #mkdocs-search-results"
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
# Blocks that may be navigation: a list of links, a bar of them. Paragraphs and definition lists are
# never dropped for their links (a "See also" sentence is content).
_NAV_CANDIDATES = {"div", "ul", "ol", "table", "section", "center", "menu"}
# Where no navigation block can be: inline text, code, headings, definition terms, list items. Not
# looking into them keeps reading 200 of Python's pages at 1.3x the CPU time it took before navigation
# was dropped (1.7-1.9 s against 1.3-1.5 s); looking into every span made it 2.6x.
_NAV_LEAVES = {"p", "pre", "code", "a", "span", "em", "strong", "dt", "h1", "h2", "h3", "h4", "h5", "h6", "li"}
# A block is navigation when links hold this share of its letters and it has at least two of them.
# Django's "« previous | up | next »" is 0.78 links; Sphinx's toctree and sidebars ~1.0; prose with
# many references ~0.3 on Django's and Python's docs.
NAV_LINK_SHARE = 0.7
# The content root is the deepest element holding this share of the page's words outside links.
_CONTENT_SHARE = 0.9
# Class or id words of page chrome (after Mozilla Readability's "unlikely candidates"): left out when
# the content is looked for by its words, so a sidebar's "Last update:" is not taken for a heading.
_UNLIKELY = re.compile(
    r"(?:^|[\s_-])(?:sidebar|breadcrumbs?|pagination|pager|navbar|menu|footer|related)(?:[\s_-]|$)", re.I
)
# Icon fonts (Font Awesome in Django's console tabs) put glyphs in the Private Use Area: never words.
_ICONS = re.compile("[\ue000-\uf8ff]")
_WORD_CHARS = re.compile(r"\w")
_NON_WORD = re.compile(r"[\W_]+")
# What the content can be when it is looked for by its words.
_CONTAINERS = {"div", "section", "article", "main", "table", "tbody", "tr", "td", "center"}
# A heading's permalink: nothing but a symbol or an empty link to its own id.
_PERMALINK_TEXT = {"", "\u200b", "¶", "#", "§", "🔗", "link", "permalink"}
_PERMALINK_TITLE = re.compile(r"^\s*(permalink|link to|direct link|anchor|heading self-link)", re.I)
# "Page — Site", "Page | Site", "Page · Site", "Page - Site": the page's part of a <title>.
_TITLE_SUFFIX = re.compile(r"\s+(?:[—–|·•»]|-{1,2})\s+(?!.*\s(?:[—–|·•»]|-{1,2})\s).*$")
# A language class on a code block: language-python, lang-sh (Markdown renderers, Prism, highlight.js),
# highlight-python (Sphinx's wrapper; 'default' and 'none' say nothing).
_LANGUAGE = re.compile(r"(?:^|\s)(?:language|lang|highlight)-([\w+#.-]+)")
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
        self.seen_heading = False
        self.pending_id: str | None = None  # Sphinx puts a heading's id on its enclosing <section>
        self.targets: list[tuple[int, str]] = []  # (line, id) in this section
        self.next_target: str | None = None  # the id of the element whose text starts the next line

    def text(self, words: str) -> None:
        self.current.append(words)

    def code(self, lines: list[str], language: str) -> None:
        """A code block as fenced lines, its own lines verbatim: the convention the chunker and the
        pages read as code (a line "```lang", the code, a line "```")."""
        self.end_line()
        self.lines.extend([f"```{language}", *lines, "```"])
        self.pending_id = None
        if self.next_target:
            self.targets.append((len(self.lines) - len(lines) - 2, self.next_target))
            self.next_target = None

    def end_line(self) -> None:
        line = " ".join(_ICONS.sub("", "".join(self.current)).split())
        if _WORD_CHARS.search(line):  # a line of only '/' or '|' between icons says nothing
            self.lines.append(line)
            self.pending_id = None
            if self.next_target:
                self.targets.append((len(self.lines) - 1, self.next_target))
                self.next_target = None
        self.current = []

    def heading(self, level: int, words: str, anchor: str | None) -> None:
        self.end_line()
        self.done.append((self.path, self.anchor, self.lines, self.targets))
        # The page's title heading (its first, an h1 or, in mdBook, an h2) stands for the page itself:
        # its section has no heading path.
        while self.levels and self.levels[-1] >= level:
            self.levels.pop()
            self.path = self.path[:-1]
        first, self.seen_heading = not self.seen_heading, True
        if not (first and words == self.title):
            self.levels.append(level)
            self.path = self.path + (words,)
        self.anchor = anchor or self.pending_id or (self.anchor if first else None)
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
            # Code is kept (people search for function names and commands), line for line.
            lines = _code_text(child).strip("\n").split("\n")
            if any(line.strip() for line in lines):
                out.code([line.rstrip() for line in lines], _language(child))
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


def _code_text(pre: LexborNode) -> str:
    """The text of a code block with its line breaks: Docusaurus and others write each line as a
    <span> ending in <br>, which a plain text() would glue to the next line."""
    parts: list[str] = []
    for node in pre.traverse(include_text=True):
        if node.tag == "-text":
            parts.append(node.text_content or "")
        elif node.tag == "br":
            parts.append("\n")
        elif node.tag in ("div", "p") and parts and not parts[-1].endswith("\n"):
            parts.append("\n")  # a line per block (some highlighters wrap each line in a div)
    return "".join(parts).replace("\r\n", "\n").replace("\t", "    ")


def _language(pre: LexborNode) -> str:
    """The code block's language from a language-* class on it, its <code> or its wrapper."""
    code = pre.css_first("code")
    for node in (code, pre, pre.parent, pre.parent.parent if pre.parent is not None else None):
        if node is None:
            continue
        found = _LANGUAGE.search(node.attributes.get("class") or "")
        if found and found.group(1).lower() not in ("default", "none", "text", "plaintext"):
            return found.group(1).lower()
    return ""


def _words(node: LexborNode) -> int:
    """Letters and digits: separators such as '|' and '»' between links are not words."""
    return len(_NON_WORD.sub("", node.text(deep=True, separator="")))


def _link_words(node: LexborNode) -> tuple[int, int]:
    """How many of the node's letters are link text, and how many links have text."""
    letters = links = 0
    for a in node.css("a"):
        n = _words(a)
        if n:
            letters += n
            links += 1
    return letters, links


def _is_navigation(node: LexborNode) -> bool:
    if node.tag not in _NAV_CANDIDATES or node.css_first("a") is None or node.css_first("pre, h1, h2, h3"):
        return False
    total = _words(node)
    if not total:
        return False
    letters, links = _link_words(node)
    return links >= 2 and letters >= NAV_LINK_SHARE * total


def _drop_navigation(node: LexborNode) -> None:
    """Drop every block that is mostly links (a menu, a toctree, a prev/next bar), outermost first."""
    for child in list(node.iter()):
        if _is_navigation(child):
            child.decompose()
        elif child.tag not in _NAV_LEAVES and child.css_first("a") is not None:
            _drop_navigation(child)


def _is_permalink(a: LexborNode) -> bool:
    href = a.attributes.get("href") or ""
    if not href.startswith("#"):
        return False
    text = " ".join(a.text(deep=True, separator="").split()).lower()
    label = a.attributes.get("title") or a.attributes.get("aria-label") or ""
    return text in _PERMALINK_TEXT or (bool(_PERMALINK_TITLE.match(label)) and solid_length(text) <= 1)


def _inside(node: LexborNode, tag: str, root: LexborNode) -> bool:
    while node is not None:
        if node.tag == tag:
            return True
        if node.mem_id == root.mem_id:
            return False
        node = node.parent
    return False


def _drop_page_headers(root: LexborNode) -> None:
    """A page's banner is a <header>; an article's own <header> holds its title (Docusaurus, Jekyll)."""
    for node in root.css("header"):
        if not (_inside(node, "article", root) and node.css_first("h1, h2, h3") is not None):
            node.decompose()


def _drop_chrome(root: LexborNode, ignore: tuple[str, ...]) -> None:
    for selector in (DROP, CHROME, *ignore):
        for node in root.css(selector):
            node.decompose()
    _drop_page_headers(root)
    for heading in root.css("h1, h2, h3, h4, h5, h6, dt"):
        for a in heading.css("a"):
            if _is_permalink(a):
                a.decompose()
    _drop_navigation(root)


def _densest(body: LexborNode) -> LexborNode:
    """The page's content when no element says so (Django's docs): the deepest element that holds
    nine tenths of the words outside links, widened to hold the first heading that is not a link
    (so one long subsection is not taken for the page)."""

    for node in body.css("[class], [id]"):
        names = f"{node.attributes.get('class') or ''} {node.attributes.get('id') or ''}"
        if _UNLIKELY.search(names) and node.css_first("h1") is None:
            node.decompose()

    def own(node: LexborNode) -> int:
        return _words(node) - _link_words(node)[0]

    total = own(body)
    root = body
    while total:
        best = max((c for c in root.iter() if c.tag in _CONTAINERS), key=own, default=None)
        if best is None or own(best) < _CONTENT_SHARE * total:
            break
        root = best
    heading = next(
        (h for h in body.css("h1, h2, h3") if _words(h) and _link_words(h)[0] < _words(h)),
        None,
    )
    while heading is not None and root is not None and not _contains(root, heading):
        root = root.parent
    return root or body


def _contains(root: LexborNode, node: LexborNode) -> bool:
    while node is not None:
        if node.mem_id == root.mem_id:
            return True
        node = node.parent
    return False


def _content_root(tree: LexborHTMLParser, body: LexborNode, selector: str) -> LexborNode:
    if selector:
        chosen = tree.css_first(selector)
        if chosen is not None:
            return chosen
    marked = tree.css_first("[data-beacon-body]")
    if marked is not None:
        return marked
    main = tree.css_first("main") or tree.css_first("[role=main]")
    scope = main or body
    articles = scope.css("article")
    # One article is the page's text (Furo, PyData, Docusaurus, Jekyll); several are a list of posts.
    if len(articles) == 1:
        return articles[0]
    if main is not None:
        return main
    return _densest(body)


def page_title(title_tag: str) -> str:
    """The page's part of a <title>: 'Making queries — Django 3.2.25 documentation' → 'Making queries'."""
    title = " ".join(title_tag.split())
    return _TITLE_SUFFIX.sub("", title).strip() or title


def _html(lines: list[str]) -> str:
    """The section's lines as escaped HTML: paragraphs, and fenced code as <pre><code>."""
    out, code, language = [], None, ""
    for line in lines:
        if code is None and line.startswith("```"):
            code, language = [], line[3:]
        elif code is not None and line == "```":
            cls = f' class="language-{escape(language)}"' if language else ""
            out.append(f"<pre><code{cls}>{escape(chr(10).join(code))}</code></pre>\n")
            code = None
        elif code is not None:
            code.append(line)
        else:
            out.append(f"<p>{escape(line)}</p>\n")
    return "".join(out)


def read_html(src: Source) -> Page:
    # A 404 page is served with status 404, so search engines never index it; nor does Beacon.
    if PurePosixPath(src.rel).stem == "404":
        raise SkipFile("noindex")
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
    if tree.body is None:
        raise CorpusError(src.shown, None, "page has no <body>", "check that it is an HTML page")
    for node in tree.body.css(DROP):
        node.decompose()  # never content, so never counted when the content is looked for
    _drop_page_headers(tree.body)
    root = _content_root(tree, tree.body, src.site.content)
    if root.css_first(_SEARCH_PAGE) is not None:  # in the content: a search box elsewhere is chrome
        raise SkipFile("noindex")
    had_words = _words(root) > 0
    _drop_chrome(root, src.site.ignore)
    heading = root.css_first("h1") or root.css_first("h1, h2, h3")
    title = (
        (" ".join(heading.text(deep=True, separator="").split()) if heading is not None else "")
        or (page_title(title_tag.text()) if title_tag is not None else "")
        or title_from_name(src.rel)
    )
    collector = _Sections(title)
    # The text above the first heading with an id links to the content's own id, or the nearest one
    # around it (Jekyll's #main-content), when there is one.
    around = root
    while around is not None and not around.attributes.get("id") and around.tag not in ("body", "html"):
        around = around.parent
    collector.anchor = around.attributes.get("id") if around is not None else None
    _walk(root, collector)
    sections, anchors = [], Anchors()
    for path, anchor, lines, targets in collector.finish():
        sections.append(
            Section(
                heading_path=path,
                anchor=anchors.unique(anchor or (slugify(path[-1]) if path else slugify(title))),
                text="\n".join(lines),
                html=_html(lines),
                line=1,
                targets=tuple(targets),
            )
        )
    if not sections and had_words:
        # Nothing but links and headings: a table of contents or an index, whose words are the titles
        # of pages indexed on their own. Counted with the pages left out, not an error that stops a build.
        raise SkipFile("noindex")
    if not sections:
        raise CorpusError(
            src.shown,
            None,
            "page has no text in its main content",
            'mark the content with data-beacon-body or name it with content = "css selector" in '
            "beacon.toml, or exclude the page there",
        )
    return Page(title=title, sections=tuple(sections), url=url, lang=lang, description=description)
