"""Read one reStructuredText file (.rst) with docutils: a section per section, keeping its ids.

Sphinx's own directives and roles (`.. code-block::`, `:ref:`) are not docutils's: they are read
quietly (reports off), a role keeps its text, and an unknown directive is left out rather than
failing the file. File inclusion and raw HTML are off, so a corpus file cannot pull in others.
"""

from __future__ import annotations

import threading

from .errors import CorpusError
from .formats import Anchors, Page, Source, decode_utf8, paragraphs_html, title_from_name
from .models import Section
from .text import slugify

_SETTINGS = {
    "report_level": 5,
    "halt_level": 5,
    "file_insertion_enabled": False,
    "raw_enabled": False,
    "warning_stream": False,
    "input_encoding": "unicode",
    "_disable_config": True,
}
# Sphinx's roles, read as the words a reader sees.
_PLAIN_ROLES = frozenset(
    "doc ref term class func meth mod attr data exc obj option envvar pep rfc program file command kbd "
    "guilabel menuselection samp abbr py:func py:class py:meth py:mod py:attr py:data py:exc".split()
)
# docutils keeps its roles and directives in module globals, and parsing writes to them: every role it
# looks up is cached in `roles._roles`, and a document's `.. role::` and `.. default-role::` directives
# register there for every later document. So each parse runs under this lock and puts the registries
# back as it found them (as Sphinx's own docutils_namespace() does): one page's roles never leak into
# the next, and a watch thread's parse never races a build's.
_DOCUTILS = threading.Lock()


def _inliner():
    """A docutils Inliner that reads Sphinx's roles as plain text without registering them anywhere.

    The method is replaced on the instance: a subclass breaks docutils' init_customizations(), which
    formats its patterns from the vars of the instance's own class only."""
    from docutils import nodes, utils
    from docutils.parsers.rst.states import Inliner

    inliner = Inliner()
    docutils_interpreted = inliner.interpreted

    def interpreted(rawsource, text, role, lineno):
        if role.lower() not in _PLAIN_ROLES:
            return docutils_interpreted(rawsource, text, role, lineno)
        # ':doc:`installation`' or ':ref:`Title <label>`': keep the words a reader sees.
        shown = text.split("<", 1)[0].strip() if "<" in text else text
        return [nodes.literal(rawsource, utils.unescape(shown.lstrip("~!")))], []

    inliner.interpreted = interpreted
    return inliner


def _doctree(text: str, source_path: str):
    from docutils.core import publish_doctree
    from docutils.parsers.rst import Parser, directives, roles

    with _DOCUTILS:
        saved_roles, saved_directives = dict(roles._roles), dict(directives._directives)
        try:
            return publish_doctree(
                text, source_path=source_path, parser=Parser(inliner=_inliner()), settings_overrides=_SETTINGS
            )
        finally:
            roles._roles.clear()
            roles._roles.update(saved_roles)
            directives._directives.clear()
            directives._directives.update(saved_directives)


def read_rst(src: Source) -> Page:
    from docutils import nodes

    text = decode_utf8(src.shown, src.data)
    if not text.strip():
        raise CorpusError(src.shown, 1, "file is empty", "write some content or delete the file")
    try:
        tree = _doctree(text, str(src.shown))
    except Exception as e:  # docutils raises its own and Python's errors for broken markup
        raise CorpusError(
            src.shown,
            getattr(e, "line", None),
            f"cannot read this reStructuredText: {e}",
            "check the markup with 'python -m docutils FILE', or exclude the file",
        )

    title_node = next(iter(tree.findall(nodes.title)), None)
    title = title_node.astext().strip() if title_node is not None else title_from_name(src.rel)
    sections: list[Section] = []
    anchors = Anchors()

    def lines_of(node) -> list[str]:
        out = []
        for child in node.children:
            if isinstance(
                child,
                (
                    nodes.section,
                    nodes.title,
                    nodes.system_message,
                    nodes.comment,
                    nodes.substitution_definition,
                    nodes.target,
                    nodes.docinfo,
                    nodes.meta,
                ),
            ):
                continue
            if isinstance(child, (nodes.bullet_list, nodes.enumerated_list, nodes.definition_list)):
                out += [" ".join(item.astext().split()) for item in child.children]
            else:
                out.append(" ".join(child.astext().split()))
        return [l for l in out if l]

    def visit(node, path: tuple[str, ...], depth: int) -> None:
        lines = lines_of(node)
        if lines:
            ids = node.get("ids") or []
            # Text above the title section: '#top', which every browser reads as the top of the page.
            base = ids[0] if ids else ("top" if depth == 0 else slugify(path[-1]) if path else slugify(title))
            sections.append(
                Section(
                    heading_path=path,
                    anchor=anchors.unique(base),
                    text="\n".join(lines),
                    html=paragraphs_html(lines),
                    line=node.line or 1,
                )
            )
        for child in node.children:
            if isinstance(child, nodes.section):
                heading = child.next_node(nodes.title)
                words = heading.astext().strip() if heading is not None else ""
                # The document's title section stands for the page, as an HTML page's h1 does.
                sub = path if (depth == 0 and words == title) else path + (words,)
                visit(child, sub, depth + 1)

    visit(tree, (), 0)
    if not sections:
        raise CorpusError(src.shown, None, "document has no text", "write some content or exclude the file")
    return Page(title=title, sections=tuple(sections))
