"""Read one Markdown file (.md, .markdown, MyST): optional front matter + body, cut into sections by heading.

Under the curated rules (a strict Site) front matter with a title is required, as it always was.
Otherwise front matter is optional (YAML between '---' lines, or Hugo's TOML between '+++' lines),
and the common static-site-generator fields are understood (docs/curating.md)."""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from pathlib import Path

import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token

from .errors import CorpusError, SkipFile
from .formats import Anchors, Page, Source, decode_utf8, title_from_name
from .models import Link, Section
from .text import slugify

# html=False makes markdown-it escape raw HTML in the corpus instead of passing it through.
MARKDOWN = MarkdownIt("commonmark", {"html": False, "linkify": False})
# For the text of other people's Markdown: raw HTML (a README's <div align="center">, <img>) is
# recognised as HTML and left out of the text instead of being read as words. Rendering still
# uses MARKDOWN, which escapes it.
MARKDOWN_WITH_HTML = MarkdownIt("commonmark", {"html": True, "linkify": False})
_DELIMITER = re.compile(r"^-{3,}\s*$")
_TOML_DELIMITER = re.compile(r"^\+{3}\s*$")
# MyST's target lines, '(label)=', name the next heading for cross-references; they are not text.
_MYST_TARGET = re.compile(r"^\([\w.:-]+\)=\s*$", re.M)
_ALLOWED_SCHEMES = ("http://", "https://")


def is_published_link(href: str) -> bool:
    """http(s) links and links within Beacon (no scheme: /source/..., other.md, #anchor) become links;
    mailto:, tel:, javascript:, data:, file:, vbscript: and any other scheme never do."""
    return re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", href.strip()) is None or href.lower().startswith(_ALLOWED_SCHEMES)


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
            kept.append(child)
        tok.children = kept


# Every link is parsed as a link (the rule above decides), so none shows as raw Markdown.
MARKDOWN.validateLink = lambda url: True
MARKDOWN.core.ruler.push("beacon_drop_unpublished_links", _drop_unpublished_links)


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
        if not url.lower().startswith(_ALLOWED_SCHEMES):
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
        if child.type in ("text", "code_inline"):
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
            if href.lower().startswith(_ALLOWED_SCHEMES):
                links.append(Link(text="".join(words).strip() or href, url=href))
            href = None
        elif href is not None and child.type == "text":
            words.append(child.content)
    return links


def split_sections(body: str, body_line: int, title: str, parser: MarkdownIt = MARKDOWN) -> list[Section]:
    """One section per heading, keeping the heading path; text before any heading is its own section."""
    tokens = parser.parse(body)
    lines = body.splitlines(keepends=True)
    # Find heading boundaries (by source line) and their paths.
    bounds: list[tuple[int, int, tuple[str, ...]]] = []  # (start_line, content_start, path)
    stack: list[tuple[int, str]] = []
    for i, tok in enumerate(tokens):
        if tok.type == "heading_open" and tok.map:
            level = int(tok.tag[1])
            heading = _inline_text(tokens[i + 1])
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, heading))
            bounds.append((tok.map[0], tok.map[1], tuple(h for _, h in stack)))
    spans = [(0, 0, ())] + bounds
    sections: list[Section] = []
    anchors = Anchors()
    for n, (start, content_start, path) in enumerate(spans):
        end = spans[n + 1][0] if n + 1 < len(spans) else len(lines)
        source = "".join(lines[content_start:end])
        sub = parser.parse(source)
        text_lines = [_inline_text(t) for t in sub if t.type == "inline"]
        text = "\n".join(t for t in text_lines if t)
        if not text:
            continue
        links = [l for t in sub if t.type == "inline" for l in _inline_links(t)]
        if not path:  # the intro has no heading line; point at its first line of text
            start = content_start + next(t.map[0] for t in sub if t.map)
        base = slugify(path[-1]) if path else slugify(title)
        anchor = anchors.unique(base)
        sections.append(
            Section(
                heading_path=path,
                anchor=anchor,
                text=text,
                html=MARKDOWN.render(source),
                line=body_line + start,
                links=tuple(links),
            )
        )
    return sections


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


def _first_h1(body: str) -> str | None:
    tokens = MARKDOWN.parse(body)
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
        title = _optional_str(src.shown, text, raw_meta, "title")
        heading = None if title else _first_h1(body)
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
    sections = split_sections(body, body_line, meta["title"], MARKDOWN if src.site.strict else MARKDOWN_WITH_HTML)
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
