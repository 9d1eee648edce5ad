"""Read one Markdown file (.md, .markdown, MyST): optional front matter + body, cut into sections by heading.

Under the curated rules (a strict Site) front matter with a title is required, as it always was.
Otherwise front matter is optional (YAML between '---' lines, or Hugo's TOML between '+++' lines),
and the common static-site-generator fields are understood (docs/curating.md)."""

from __future__ import annotations

import datetime as dt
import html
import re
import tomllib
from pathlib import Path

import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.admon import admon_plugin
from mdit_py_plugins.attrs import attrs_plugin
from mdit_py_plugins.attrs.parse import ParseError
from mdit_py_plugins.attrs.parse import parse as parse_attrs
from mdit_py_plugins.container import container_plugin
from mdit_py_plugins.deflist import deflist_plugin
from mdit_py_plugins.footnote import footnote_plugin
from mdit_py_plugins.tasklists import tasklists_plugin

from .errors import CorpusError, SkipFile
from .formats import Anchors, Page, Source, decode_utf8, title_from_name
from .models import Link, Section
from .text import code_block, is_web_url, slugify

# html=False makes markdown-it escape raw HTML in the corpus instead of passing it through.
MARKDOWN = MarkdownIt("commonmark", {"html": False, "linkify": False})
# For the text of other people's Markdown: raw HTML (a README's <div align="center">, <img>) is
# recognised as HTML and left out of the text instead of being read as words. Rendering still
# uses MARKDOWN, which escapes it.
MARKDOWN_WITH_HTML = MarkdownIt("commonmark", {"html": True, "linkify": False})
# (SITE_MARKDOWN below adds the generators' extensions to it.)
_DELIMITER = re.compile(r"^-{3,}\s*$")
_TOML_DELIMITER = re.compile(r"^\+{3}\s*$")
# MyST's target lines, '(label)=', name the next heading for cross-references; they are not text.
_MYST_TARGET = re.compile(r"^\([\w.:-]+\)=\s*$", re.M)


def is_published_link(href: str) -> bool:
    """http(s) links and links within Beacon (no scheme: /source/..., other.md, #anchor) become links;
    mailto:, tel:, javascript:, data:, file:, vbscript: and any other scheme never do."""
    return re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", href.strip()) is None or is_web_url(href)


def _drop_unpublished_links(state) -> None:
    """Keep the words of a link whose address is not published, without the link (markdown-it's own
    check would leave `[text](javascript:…)` on the page as raw text, and lets mailto: through)."""
    for tok in state.tokens:
        if tok.type != "inline" or not tok.children:
            continue
        kept, dropping = [], []
        for child in tok.children:
            if child.type == "link_open":
                dropping.append(not is_published_link(str(child.attrGet("href") or "")))
                if dropping[-1]:
                    continue
            elif child.type == "link_close" and dropping and dropping.pop():
                continue
            elif child.type == "image" and not is_local_image(str(child.attrGet("src") or "")):
                # Only the site's own images: a javascript: or data: source, or another host's tracking
                # pixel, would be shown on Beacon's /source/ pages (issue 21, L2); its words stay.
                words = Token("text", "", 0)
                words.content = child.content
                child = words
            kept.append(child)
        tok.children = kept


def is_local_image(src: str) -> bool:
    """A relative image path inside the site (img/a.png, ../a.png): no scheme, not //host/..."""
    src = src.strip()
    return bool(src) and re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", src) is None and not src.startswith(("//", "\\"))


# Every link is parsed as a link (the rule above decides), so none shows as raw Markdown.
MARKDOWN.validateLink = lambda url: True
MARKDOWN.core.ruler.push("beacon_drop_unpublished_links", _drop_unpublished_links)

# A heading's attribute list, as MkDocs (attr_list: '{ #id }', '{: #id .class }'), Pandoc and Hugo
# write it at the end of the line; its id is the heading's anchor on the published page.
_HEADING_ATTRS = re.compile(r"\s*\{:?\s*([^{}]*?)\s*\}\s*$")


def _heading_attributes(state) -> None:
    """Take '{ #id }' off the end of each heading's text and keep the id on the heading token. attrs_plugin
    reads attributes after inline elements only, not after a heading, so this rule does the heading with
    the plugin's own attribute parser."""
    tokens = state.tokens
    for tok, inline in zip(tokens, tokens[1:]):
        if tok.type != "heading_open" or inline.type != "inline":
            continue
        found = _HEADING_ATTRS.search(inline.content)
        # Only a list of attributes ('#id', '.class', 'key=value'): 'Format strings {name}' keeps its braces.
        if not found or not re.match(r"[#.]|[\w-]+=", found.group(1)):
            continue
        try:
            _, attrs = parse_attrs("{" + found.group(1) + "}")
        except ParseError:
            continue
        cut = len(inline.content) - found.start()
        inline.content = inline.content[: found.start()]
        for child in reversed(inline.children or []):
            if cut <= 0:
                break
            if child.type == "text":
                keep = max(0, len(child.content) - cut)
                cut -= len(child.content) - keep
                child.content = child.content[:keep]
        inline.children = [c for c in inline.children or [] if c.type != "text" or c.content]
        if attrs.get("id"):
            tok.attrSet("id", str(attrs["id"]))


def _drop_raw_html(state) -> None:
    """Raw HTML out of the rendered page (its words stay): a README's <div align="center"> or FastAPI's
    <a href=... target="_blank"> would otherwise show as escaped tags on the /source/ page."""
    state.tokens = [t for t in state.tokens if t.type != "html_block"]
    for tok in state.tokens:
        if tok.type == "inline" and tok.children:
            tok.children = [c for c in tok.children if c.type != "html_inline"]


def _render_container(self, tokens, idx, options, env) -> str:
    """A pymdownx block or Docusaurus/MyST container shown as an admonition with its title."""
    if tokens[idx].nesting == 1:
        title = html.escape(_container_title(tokens[idx].info))
        return f'<div class="admonition"><p class="admonition-title">{title}</p>\n'
    return "</div>\n"


def _site_markdown(indented_code: bool = True, render: bool = False) -> MarkdownIt:
    """The parser for other people's Markdown, with markdown-it-py's maintained plugins for what the
    common generators add to CommonMark: admonitions ('!!! note', '??? tip'), pymdownx blocks ('/// note
    | Title' ... '///'), Docusaurus and MyST containers (':::note', ':::{note}'), attribute lists,
    definition lists, footnotes, task lists, and GitHub's tables. Raw HTML is recognised and left out
    of the text, and with render=True out of the rendered HTML too; attributes are never rendered."""
    md = (
        MarkdownIt("commonmark", {"html": True, "linkify": False})
        .enable(["table", "strikethrough"])
        .use(admon_plugin)
        .use(container_plugin, "block", marker="/", validate=lambda *_: True, render=_render_container)
        .use(container_plugin, "colon", marker=":", validate=lambda *_: True, render=_render_container)
        .use(attrs_plugin, allowed=())
        .use(deflist_plugin)
        .use(footnote_plugin)
        .use(tasklists_plugin)
    )
    if not indented_code:  # MDX has no indented code: text indented inside a JSX tag is text
        md.disable("code")
    md.validateLink = lambda url: True
    md.core.ruler.push("beacon_drop_unpublished_links", _drop_unpublished_links)
    md.core.ruler.push("beacon_heading_attributes", _heading_attributes)
    if render:
        md.core.ruler.push("beacon_drop_raw_html", _drop_raw_html)
    return md


SITE_MARKDOWN = _site_markdown()
SITE_MDX = _site_markdown(indented_code=False)
SITE_RENDER = _site_markdown(render=True)


def parse_front_matter(path: Path, text: str) -> tuple[dict, str, int]:
    """Return (metadata, body, 1-based file line of the body's first line).

    The split is done here rather than with python-frontmatter because that library strips the
    text and does not say where the body starts, and every error must name its line.
    """
    lines = text.split("\n")
    if not _DELIMITER.match(lines[0]):
        raise CorpusError(
            path,
            1,
            "no YAML front matter",
            "start the file with a '---' line, then 'title: ...', then another '---' line",
        )
    close = next((i for i in range(1, len(lines)) if _DELIMITER.match(lines[i])), None)
    if close is None:
        raise CorpusError(path, 1, "front matter is not closed", "add a '---' line after the front matter")
    try:
        meta = yaml.safe_load("\n".join(lines[1:close]))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1  # YAML starts on file line 2
        reason = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise CorpusError(
            path,
            line,
            f"front matter is not valid YAML: {reason}",
            "check quoting and indentation; values containing ':' need quotes",
        )
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise CorpusError(path, 2, "front matter must be a mapping of keys to values", "write it as 'key: value' lines")
    return meta, "\n".join(lines[close + 1 :]), close + 2


def field_line(text: str, key: str) -> int:
    """Line number of a top-level front-matter key, so errors can point at it (1 if absent)."""
    for i, line in enumerate(text.splitlines(), start=1):
        if line.startswith(f"{key}:"):
            return i
    return 1


def _str_list(path: Path, text: str, meta: dict, key: str) -> tuple[str, ...]:
    value = meta.get(key) or []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, (str, int, float)) for v in value):
        raise CorpusError(
            path, field_line(text, key), f"'{key}' must be a list of words", f"write it as {key}: [one, two]"
        )
    return tuple(str(v).strip() for v in value if str(v).strip())


def _links(path: Path, text: str, meta: dict) -> tuple[Link, ...]:
    value = meta.get("links") or []
    line = field_line(text, "links")
    if not isinstance(value, list):
        raise CorpusError(path, line, "'links' must be a list", "write '- text: ...' and 'url: ...' items")
    links = []
    for item in value:
        if isinstance(item, str):
            item = {"text": item, "url": item}
        if not isinstance(item, dict) or not isinstance(item.get("url"), str):
            raise CorpusError(path, line, "each link needs a 'url'", "write '- text: Name' then '  url: https://...'")
        url = item["url"].strip()
        if not is_web_url(url):
            raise CorpusError(
                path, line, f"link '{url}' is not an http(s) address", "only http:// and https:// links are published"
            )
        links.append(Link(text=str(item.get("text") or url).strip(), url=url))
    return tuple(links)


def _date(path: Path, text: str, meta: dict) -> str | None:
    value = meta.get("last_reviewed")
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.isoformat()
    try:
        return dt.date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise CorpusError(
            path,
            field_line(text, "last_reviewed"),
            f"'last_reviewed' is not a date: {value!r}",
            "write it as YYYY-MM-DD",
        )


def read_metadata(path: Path, text: str, meta: dict) -> dict:
    title = meta.get("title")
    if not isinstance(title, (str, int, float)) or not str(title).strip():
        raise CorpusError(path, 1, "front matter has no 'title'", "add a line 'title: ...' to the front matter")
    return {
        "title": str(title).strip(),
        "aliases": _str_list(path, text, meta, "aliases"),
        "tags": _str_list(path, text, meta, "tags"),
        "links": _links(path, text, meta),
        "last_reviewed": _date(path, text, meta),
    }


def _inline_text(token: Token) -> str:
    out = []
    for child in token.children or []:
        if child.type == "code_inline":
            out.append(child.content)
        elif child.type == "text":
            out.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            out.append(" ")
        elif child.type == "image":
            out.append(child.content)
    return "".join(out).strip()


def _inline_links(token: Token) -> list[Link]:
    links, href, words = [], None, []
    for child in token.children or []:
        if child.type == "link_open":
            href, words = str(child.attrs.get("href", "")), []
        elif child.type == "link_close" and href:
            if is_web_url(href):
                links.append(Link(text="".join(words).strip() or href, url=href))
            href = None
        elif href is not None and child.type == "text":
            words.append(child.content)
    return links


_TERMINAL = re.compile(r"""<div\b[^>]*\bclass=["'][^"']*\btermy\b""")
# MyST directives written as fences (```{name} argument): code, left out, or text with a title.
_MYST_CODE = {"code", "code-block", "code-cell", "sourcecode", "literalinclude"}
_MYST_HIDDEN = {"toctree", "contents", "tableofcontents", "index", "include", "eval-rst", "raw", "image", "figure"}
# A container's opening: '/// note | Title', ':::note Title', ':::note[Title]', ':::{note} Title'.
_CONTAINER = re.compile(r"^\s*\{?([\w-]*)\}?\s*(?:\|\s*(.*)|\[(.*)\]|(.*))$")


def _container_title(info: str) -> str:
    found = _CONTAINER.match(info)
    if not found:
        return info.strip()
    kind, title = found.group(1), next((g for g in found.groups()[1:] if g and g.strip()), "")
    title = title.strip().strip("\"'")
    return title or kind.replace("-", " ").capitalize()


def _text_lines(tokens: list[Token], parser: MarkdownIt) -> list[str]:
    """The text of parsed blocks, one paragraph, list item, table row or title per line, each code
    block in the section-text form (ingest/text.py's code_block)."""
    out: list[str] = []
    row: list[str] | None = None
    titled: list[int] = []  # where each open container's title is in `out`
    terminal = False
    for tok in tokens:
        if tok.type == "html_block":
            # FastAPI's <div class="termy"> animates the console block inside it, whose <font>/<span>
            # colouring is HTML the page renders: the words are the command and its output.
            terminal = bool(_TERMINAL.search(tok.content)) or (terminal and "</div>" not in tok.content)
        elif tok.type == "inline":
            text = _inline_text(tok)
            if row is not None:
                row.append(text)
            elif text:
                out.append(text)
        elif tok.type == "tr_open":
            row = []
        elif tok.type == "tr_close":
            if row and any(row):
                out.append(" | ".join(row))
            row = None
        elif tok.type in ("fence", "code_block"):
            info = tok.info.strip()
            if not tok.content.strip():
                continue  # nothing but an include that was left out
            if terminal:
                tok = tok.copy(content=html.unescape(re.sub(r"</?[a-zA-Z][^>]*>", "", tok.content)))
            if not info.startswith("{"):
                out.append(code_block(tok.content, info.split()[0] if info else ""))
                continue
            name, _, argument = info[1:].partition("}")
            name, argument = name.strip().lower(), argument.strip()
            if name in _MYST_CODE:
                out.append(code_block(tok.content, argument.split()[0] if argument else ""))
            elif name not in _MYST_HIDDEN:
                out.append(_container_title(f"{name} {argument}"))
                out.extend(_text_lines(parser.parse(tok.content), parser))
        elif tok.type.startswith("container_") and tok.type.endswith("_open"):
            titled.append(len(out))
            out.append(_container_title(tok.info))
        elif tok.type.startswith("container_") and tok.type.endswith("_close") and titled:
            if len(out) == titled[-1] + 1:  # a tab whose code was all left out: no title alone
                out.pop()
            titled.pop()
    return [line for line in out if line]


def split_sections(
    body: str,
    body_line: int,
    title: str,
    parser: MarkdownIt = MARKDOWN,
    expand=None,
    renderer: MarkdownIt = MARKDOWN,
) -> list[Section]:
    """One section per heading, keeping the heading path; text before any heading is its own section.
    A heading's '{ #id }' is its anchor; `expand` (Includes.expand) replaces each section's include
    lines with the files they name."""
    tokens = parser.parse(body)
    lines = body.splitlines(keepends=True)
    # Find heading boundaries (by source line) and their paths.
    bounds: list[tuple[int, int, tuple[str, ...], str]] = []  # (start_line, content_start, path, id)
    stack: list[tuple[int, str]] = []
    for i, tok in enumerate(tokens):
        if tok.type == "heading_open" and tok.map and tok.level == 0:
            level = int(tok.tag[1])
            heading = _inline_text(tokens[i + 1])
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, heading))
            bounds.append((tok.map[0], tok.map[1], tuple(h for _, h in stack), str(tok.attrGet("id") or "")))
    spans = [(0, 0, (), "")] + bounds
    sections: list[Section] = []
    anchors = Anchors()
    for n, (start, content_start, path, given_id) in enumerate(spans):
        end = spans[n + 1][0] if n + 1 < len(spans) else len(lines)
        source = "".join(lines[content_start:end])
        if expand is not None:
            source = expand(source)
        sub = parser.parse(source)
        text = "\n".join(_text_lines(sub, parser))
        if not text:
            continue
        links = [l for t in sub if t.type == "inline" for l in _inline_links(t)]
        if not path:  # the intro has no heading line; point at its first line of text
            start = content_start + next((t.map[0] for t in sub if t.map), 0)
        base = given_id or (slugify(path[-1]) if path else slugify(title))
        anchor = anchors.unique(base)
        sections.append(
            Section(
                heading_path=path,
                anchor=anchor,
                text=text,
                html=renderer.render(source),
                line=body_line + start,
                links=tuple(links),
            )
        )
    return sections


# Lines the generators read before Markdown does (line count kept, so errors still name the right line).
_FENCE_LINE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_MDX_LINE = re.compile(
    r"""^(?:import\s+(?:[\w*{}\s,]+\s+from\s+)?["'][^"']+["'];?"""
    r"""|export\s+(?:default\s+)?(?:const|let|var|function|class|async)\b.*)\s*$"""
)
# JSX components (capitalised: <Tabs>, <TabItem value="x" label="X">, </Tabs>, <Admonition />).
_JSX_TAG = re.compile(r"""</?[A-Z][\w.]*(?:\s+(?:[^<>"'{}]|"[^"]*"|'[^']*'|\{[^{}]*\})*)?/?>""")
# Hugo shortcodes: {{< name args >}}, {{% name %}}, and their closing tags; the text between stays.
_SHORTCODE = re.compile(r"\{\{[<%].*?[%>]\}\}")
# pymdownx.tabbed content tabs: '=== "Label"' with the tab's content indented below it.
_TAB = re.compile(r"""^(\s*)===[+!]*\s+"(.*)"\s*$""")
_MYST_FENCE_OPEN = re.compile(r"^\s*(?:`{3,}|:{3,})\{[\w:-]+\}")
_MYST_OPTION = re.compile(r"^\s*:[\w-]+:(?:\s|$)")


def _undo_tabs(lines: list[str]) -> list[str]:
    out, i = [], 0
    while i < len(lines):
        tab = _TAB.match(lines[i])
        if not tab:
            out.append(lines[i])
            i += 1
            continue
        indent = tab.group(1)
        out.append(indent + tab.group(2))
        inner = indent + "    "
        i += 1
        while i < len(lines) and (not lines[i].strip() or lines[i].startswith(inner)):
            out.append(indent + lines[i][len(inner) :] if lines[i].strip() else "")
            i += 1
    return out


def site_markup(body: str) -> tuple[str, bool]:
    """The body with what a generator reads before Markdown taken out, and whether it is MDX: content
    tabs become their label and their content; MDX import/export lines and JSX tags, Hugo shortcodes and
    MyST directive options are removed. Fenced code is left as written."""
    lines, fence, mdx, after_directive = _undo_tabs(body.split("\n")), None, False, False
    for n, line in enumerate(lines):
        opening = _FENCE_LINE.match(line)
        if fence is not None:
            if (
                opening
                and opening.group(1)[0] == fence[0]
                and len(opening.group(1)) >= len(fence)
                and not line.strip().strip(fence[0])
            ):
                fence = None
            if not (after_directive and _MYST_OPTION.match(line)):
                after_directive = False
                continue
        if _MYST_FENCE_OPEN.match(line):
            after_directive = True
            if opening:
                fence = opening.group(1)
            continue
        if after_directive and _MYST_OPTION.match(line):
            lines[n] = ""
            continue
        after_directive = False
        if opening:
            fence = opening.group(1)
            continue
        if _MDX_LINE.match(line):
            lines[n], mdx = "", True
            continue
        stripped = _SHORTCODE.sub("", line)
        if _JSX_TAG.search(stripped):
            stripped, mdx = _JSX_TAG.sub("", stripped), True
        if stripped != line:
            lines[n] = stripped if stripped.strip() else ""
    return "\n".join(lines), mdx


# Snippet includes: pymdownx.snippets ('--8<-- "file"') and FastAPI's '{* ../../docs_src/file.py hl[3] *}'.
_SNIPPET = re.compile(r"""^(\s*)-{1,3}8<-{1,3}\s+(["'])([^"']+)\2\s*$""")
_CODE_INCLUDE = re.compile(r"^(\s*)\{\*\s+(\S+).*\*\}\s*$")
# mdx_include, which FastAPI's pages used before '{* *}': '{!> ../../../docs_src/file.py!}', '{! file.md !}'.
_MDX_INCLUDE = re.compile(r"^(\s*)\{!>?\s*(.+?)\s*!\}\s*$")
_LANGUAGES = {".py": "python", ".js": "javascript", ".ts": "typescript", ".sh": "bash", ".yml": "yaml"}


class Includes:
    """Resolves a page's include lines to the files they name, when those are inside the content folder
    (a file outside it is not part of what was published to Beacon); the others are left out and listed
    by name in `dropped` (the Source's list, which the reader reports with the skipped files)."""

    def __init__(self, src: Source):
        root = src.path
        for _ in Path(src.rel).parts:
            root = root.parent
        self.root, self.folder = root.resolve(), src.path.parent
        self.dropped: list[str] = src.dropped

    def read(self, name: str) -> str | None:
        """The named file's text, or None (and the name noted in `dropped`)."""
        name = re.sub(r"(:-?\d+)+$", "", name.strip())  # snippets' 'file.md:3:5' line ranges
        for base in (self.folder, self.root):
            target = (base / name).resolve()
            if target.is_relative_to(self.root) and target.is_file():
                try:
                    return target.read_text(encoding="utf-8-sig")
                except (OSError, UnicodeDecodeError):
                    break
        self.dropped.append(name)
        return None

    def lines(self, source: str) -> list[tuple[int, str]]:
        """(0-based line, named file) of each include line of the source."""
        found = (
            (n, _SNIPPET.match(line) or _CODE_INCLUDE.match(line) or _MDX_INCLUDE.match(line))
            for n, line in enumerate(source.split("\n"))
        )
        return [(n, m.group(3) if m.re is _SNIPPET else m.group(2)) for n, m in found if m]

    def expand(self, source: str) -> str:
        out = []
        for line in source.split("\n"):
            snippet, code, mdx = _SNIPPET.match(line), _CODE_INCLUDE.match(line), _MDX_INCLUDE.match(line)
            if snippet or mdx:  # the file's text as it is, where the line was (often inside a fence)
                text = self.read(snippet.group(3) if snippet else mdx.group(2))
                out.append(text.rstrip("\n") if text is not None else "")
            elif code:
                text = self.read(code.group(2))
                lang = _LANGUAGES.get(Path(code.group(2)).suffix.lower(), Path(code.group(2)).suffix.lstrip("."))
                out.append(code.group(1) + code_block(text, lang) if text is not None else "")
            else:
                out.append(line)
        return "\n".join(out)


def parse_optional_front_matter(path: Path, text: str) -> tuple[dict, str, int]:
    """Like parse_front_matter, but a file without front matter is all body; Hugo's '+++' TOML is read too."""
    lines = text.split("\n")
    if _DELIMITER.match(lines[0]):
        return parse_front_matter(path, text)
    if not _TOML_DELIMITER.match(lines[0]):
        return {}, text, 1
    close = next((i for i in range(1, len(lines)) if _TOML_DELIMITER.match(lines[i])), None)
    if close is None:
        raise CorpusError(path, 1, "front matter is not closed", "add a '+++' line after the front matter")
    try:
        meta = tomllib.loads("\n".join(lines[1:close]))
    except tomllib.TOMLDecodeError as e:
        found = re.search(r"line (\d+)", str(e))
        raise CorpusError(
            path,
            int(found.group(1)) + 1 if found else 1,
            f"front matter is not valid TOML: {e}",
            "quote text values and check the brackets",
        )
    return meta, "\n".join(lines[close + 1 :]), close + 2


def _first_h1(body: str, parser: MarkdownIt = MARKDOWN) -> str | None:
    tokens = parser.parse(body)
    for i, tok in enumerate(tokens):
        if tok.type == "heading_open" and tok.tag == "h1":
            return _inline_text(tokens[i + 1]) or None
    return None


def _optional_str(path: Path, text: str, meta: dict, key: str) -> str | None:
    value = meta.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, (str, int, float)):
        raise CorpusError(path, field_line(text, key), f"'{key}' must be text", f"write it as {key}: ...")
    return str(value).strip() or None


def _page_url(src: Source, text: str, meta: dict) -> str | None:
    """The public URL the front matter gives: url/permalink (absolute, or a path on the site), or a slug."""
    for key in ("url", "permalink"):
        value = _optional_str(src.shown, text, meta, key)
        if value:
            return src.site.absolute(value)
    slug = _optional_str(src.shown, text, meta, "slug")
    if slug:
        parent = Path(src.rel).parent.as_posix()
        name = slug.strip("/")
        rel = f"{name}.md" if parent == "." else f"{parent}/{name}.md"
        return src.site.page_url(rel)
    return None


def read_markdown(src: Source) -> Page:
    text = decode_utf8(src.shown, src.data)
    if not text.strip():
        raise CorpusError(src.shown, 1, "file is empty", "write some content or delete the file")
    if src.site.strict:
        raw_meta, body, body_line = parse_front_matter(src.shown, text)
        meta = read_metadata(src.shown, text, raw_meta)
        # A translation says its language (lang: zh); others take the corpus default (beacon.toml).
        extra: dict = {"lang": _optional_str(src.shown, text, raw_meta, "lang")}
        from_heading = False
    else:
        raw_meta, body, body_line = parse_optional_front_matter(src.shown, text)
        if raw_meta.get("draft") is True:
            raise SkipFile("draft")
        body = _MYST_TARGET.sub("", body)
        body, mdx = site_markup(body)
        parser = SITE_MDX if mdx else SITE_MARKDOWN
        title = _optional_str(src.shown, text, raw_meta, "title")
        heading = None if title else _first_h1(body, parser)
        from_heading = heading is not None
        meta = read_metadata(src.shown, text, {**raw_meta, "title": title or heading or title_from_name(src.rel)})
        keywords = raw_meta.get("keywords")
        if isinstance(keywords, str):  # often one comma-separated string in HTML-meta style
            raw_meta = {**raw_meta, "keywords": [k for k in keywords.split(",")]}
        meta["tags"] = tuple(dict.fromkeys(meta["tags"] + _str_list(src.shown, text, raw_meta, "keywords")))
        extra = {
            "url": _page_url(src, text, raw_meta),
            "lang": _optional_str(src.shown, text, raw_meta, "lang"),
            "description": _optional_str(src.shown, text, raw_meta, "description"),
        }
    if src.site.strict:
        sections = split_sections(body, body_line, meta["title"])
    else:
        includes = Includes(src)
        sections = split_sections(body, body_line, meta["title"], parser, includes.expand, SITE_RENDER)
    if from_heading:
        # The title is the page's '# heading': its own section stands for the page, not a sub-heading.
        sections = [
            s
            if s.heading_path[:1] != (meta["title"],)
            else Section(s.heading_path[1:], s.anchor, s.text, s.html, s.line, s.links)
            for s in sections
        ]
    if not sections:
        raise CorpusError(
            src.shown,
            body_line,
            "document has no text after the front matter",
            "add at least one paragraph below the closing '---'",
        )
    return Page(sections=tuple(sections), **meta, **extra)
