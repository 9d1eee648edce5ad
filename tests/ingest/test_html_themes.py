"""Built HTML sites as their generators write them: Sphinx (five themes) and MkDocs (three) built here
by the real generators, saved pages of Docusaurus and mdBook and pages written from the Docsy and
just-the-docs templates (tests/fixtures/sites/README.md), and Debian's build of Django's docs. Every passage of every page is checked, not a few questions."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from selectolax.lexbor import LexborHTMLParser

from ingest import CorpusError, Site, load_site, read_corpus
from ingest.chunking import SCRAP, chunk_documents
from ingest.reader import CorpusRead, iter_documents

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "sites"
DJANGO_DOCS = Path("/usr/share/doc/python-django-doc/html")

# Words that are a theme's chrome when they stand alone on a line of a passage.
CHROME_LINES = re.compile(
    r"^(?:«\s*)?(previous|next|up|home|table of contents|contents|index|modules|on this page|show source|"
    r"view page source|edit this page|edit on github|skip to main content|quick search|search|navigation|"
    r"previous topic|next topic|last update:?|was this page helpful\??|yes|no|this page|go)(?:\s*»)?$",
    re.I,
)
# Django's bars: "Home | Table of contents | Index | Modules" and "« previous | up | next »".
NAV_BARS = re.compile(r"table of contents\s*\|\s*index|«\s*previous|next\s*»|previous\s*\|\s*up", re.I)

WIDGETS_RST = {
    "conf.py": 'project = "Widgets"\n',
    "index.rst": """\
        Widgets manual
        ==============

        Widgets turn levers into sprockets.

        .. toctree::

           install
           usage
        """,
    "install.rst": """\
        Installing widgets
        ==================

        Install the widget package with pip.

        .. code-block:: bash

           pip install widgets

        On Debian
        ---------

        Use apt to install the packaged widgets.

        Checking the version
        ~~~~~~~~~~~~~~~~~~~~

        Run ``widgets --version`` to print the version number.
        """,
    "usage.rst": """\
        Using widgets
        =============

        Call the spin function to rotate a sprocket.

        .. py:function:: spin(sprocket, turns=1)

           Rotate the sprocket by the given number of turns.

        Configuration
        -------------

        Settings live in ``widgets.toml`` beside the project.

        .. code-block:: python

           import widgets
           widgets.spin("left", turns=3)
        """,
}
# Each page's own first heading, and the headings under it, as the source project wrote them.
WIDGETS_TITLES = {"index": "Widgets manual", "install": "Installing widgets", "usage": "Using widgets"}
WIDGETS_HEADINGS = {
    "install": {(), ("On Debian",), ("On Debian", "Checking the version")},
    "usage": {(), ("Configuration",)},
    "index": {()},
}
SPHINX_THEMES = ("alabaster", "classic", "sphinx_rtd_theme", "furo", "pydata_sphinx_theme")

WIDGETS_MD = {
    "index.md": "# Widgets manual\n\nWidgets turn levers into sprockets.\n",
    "install.md": """\
        # Installing widgets

        Install the widget package with pip.

        ```bash
        pip install widgets
        ```

        ## On Debian

        Use apt to install the packaged widgets.

        ### Checking the version

        Run `widgets --version` to print the version number.
        """,
}
MKDOCS_THEMES = ("material", "readthedocs", "mkdocs")


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def _run(args: list[str], cwd: Path) -> None:
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="session")
def sphinx_sites(tmp_path_factory) -> dict[str, Path]:
    """The tiny project built once with each Sphinx theme (about 2 s a theme)."""
    for module in ("sphinx", "furo", "pydata_sphinx_theme", "sphinx_rtd_theme"):
        pytest.importorskip(module)
    base = tmp_path_factory.mktemp("sphinx")
    source = _write(base / "src", WIDGETS_RST)
    built = {}
    for theme in SPHINX_THEMES:
        out = base / theme
        _run(
            [sys.executable, "-m", "sphinx", "-q", "-b", "html", "-D", f"html_theme={theme}", str(source), str(out)],
            base,
        )
        built[theme] = out
    return built


@pytest.fixture(scope="session")
def mkdocs_sites(tmp_path_factory) -> dict[str, Path]:
    """The tiny project built once with MkDocs's own themes and Material."""
    pytest.importorskip("mkdocs")
    pytest.importorskip("material")
    base = tmp_path_factory.mktemp("mkdocs")
    _write(base / "docs", WIDGETS_MD)
    built = {}
    for theme in MKDOCS_THEMES:
        config = base / f"mkdocs-{theme}.yml"
        config.write_text(f"site_name: Widget Docs\ntheme:\n  name: {theme}\nnav:\n  - index.md\n  - install.md\n")
        _run([sys.executable, "-m", "mkdocs", "build", "-q", "-f", str(config), "-d", str(base / theme)], base)
        built[theme] = base / theme
    return built


def _passages(root: Path, site: Site = Site()):
    """Every passage of the site as it would be indexed (the real chunker; words as tokens)."""
    docs, errors = read_corpus(root, site)
    assert not errors, [str(e) for e in errors]
    return docs, chunk_documents(docs, 256, lambda text: len(text.split()))


def _ids(page: Path) -> set[str]:
    return {n.attributes["id"] for n in LexborHTMLParser(page.read_text(encoding="utf-8")).css("[id]")}


def _assert_clean(root: Path, docs, chunks, banner: str, anchorless: frozenset[str] = frozenset()) -> None:
    """No permalink sign, no chrome line, no site-name title; every link target is an id on its page
    (but the `anchorless` sections, whose heading the page gives no id)."""
    assert chunks
    for doc in docs:
        assert banner not in doc.title and not re.search(r"\s[—|·]\s", doc.title), doc.title
    for chunk in chunks:
        where = f"{chunk.doc_id}#{chunk.anchor}: {chunk.text[:200]!r}"
        assert "¶" not in chunk.text and "¶" not in chunk.section, where
        for line in chunk.text.split("\n"):
            assert not CHROME_LINES.match(line.strip()), where
            assert not NAV_BARS.search(line), where
        page = next(d for d in docs if d.doc_id == chunk.doc_id)
        ids = _ids(root / page.path)
        assert chunk.anchor in ids or chunk.anchor in anchorless, where
        assert chunk.target == "" or chunk.target in ids, where
        assert all(target in ids for _, target in chunk.targets), where


@pytest.mark.parametrize("theme", SPHINX_THEMES)
def test_sphinx_theme_pages_read_as_written(sphinx_sites, theme):
    root = sphinx_sites[theme]
    docs, chunks = _passages(root)
    _assert_clean(root, docs, chunks, "Widgets documentation")
    by_id = {d.doc_id: d for d in docs}
    # genindex and search are Sphinx's generated pages, left out without a site file.
    assert set(by_id) == set(WIDGETS_TITLES), sorted(by_id)
    for doc_id, title in WIDGETS_TITLES.items():
        assert by_id[doc_id].title == title
        assert {s.heading_path for s in by_id[doc_id].sections} == WIDGETS_HEADINGS[doc_id]
    install = "\n".join(s.text for s in by_id["install"].sections)
    assert "```bash\npip install widgets\n```" in install
    usage = "\n".join(s.text for s in by_id["usage"].sections)
    assert '```python\nimport widgets\nwidgets.spin("left", turns=3)\n```' in usage
    # The toctree is navigation: the index page keeps its own sentence only.
    assert by_id["index"].sections[0].text == "Widgets turn levers into sprockets."


@pytest.mark.parametrize("theme", MKDOCS_THEMES)
def test_mkdocs_theme_pages_read_as_written(mkdocs_sites, theme):
    root = mkdocs_sites[theme]
    docs, chunks = _passages(root)
    _assert_clean(root, docs, chunks, "Widget Docs")
    by_id = {d.doc_id: d for d in docs}
    assert set(by_id) == {"index", "install/index"}, sorted(by_id)  # 404.html is never content
    assert by_id["index"].title == "Widgets manual"
    assert by_id["install/index"].title == "Installing widgets"
    assert {s.heading_path for s in by_id["install/index"].sections} == WIDGETS_HEADINGS["install"]
    text = "\n".join(s.text for s in by_id["install/index"].sections)
    assert "```bash\npip install widgets\n```" in text
    assert "Widget Docs" not in text


def test_docusaurus_page_keeps_its_article_and_drops_the_chrome_around_it(tmp_path):
    root = tmp_path / "site"
    shutil.copytree(FIXTURES / "docusaurus", root)
    docs, chunks = _passages(root)
    _assert_clean(root, docs, chunks, "Weaviate Documentation")
    (doc,) = docs
    assert doc.title == "How to write great bug reports"  # the <header><h1> of the article
    assert [s.heading_path[-1] for s in doc.sections] == [
        "Write great bug reports!",
        "What makes a great bug report stand out?",
        "What is the minimal information and context that should always be provided?",
        "Thank you",
    ]
    text = "\n".join(c.text for c in chunks)
    for chrome in ("Weaviate Academy", "Ask AI", "On this page", "Edit this page", "helpful", "Forum", "Go to"):
        assert chrome not in text


def test_docusaurus_code_lines_written_as_spans_and_breaks_stay_lines(tmp_path):
    # Docusaurus's Prism markup, as in its built pages: one <span class="token-line"> per line, ended by <br>.
    line = '<span class="token-line" style="color:#393A34"><span class="token plain">{}</span><br></span>'
    page = (
        "<html><body><main><article><div class='theme-doc-markdown markdown'><header><h1>Setup</h1></header>"
        "<p>Run these.</p><div class='language-bash codeBlockContainer_Ckt0 theme-code-block'>"
        "<div class='codeBlockContent_QJqH'><pre tabindex='0' class='prism-code language-bash codeBlock_bY9V'>"
        f"<code class='codeBlockLines_e6Vv'>{line.format('npm install')}{line.format('npm run build')}</code></pre>"
        "<div class='buttonGroup__atx'><button aria-label='Copy code to clipboard'>Copy</button></div></div></div>"
        "</div></article></main></body></html>"
    )
    (tmp_path / "setup.html").write_text(page, encoding="utf-8")
    docs, _ = _passages(tmp_path)
    assert docs[0].sections[0].text == "Run these.\n```bash\nnpm install\nnpm run build\n```"
    assert '<pre><code class="language-bash">npm install\nnpm run build</code></pre>' in docs[0].sections[0].html


def test_mdbook_chapter_title_is_its_first_heading_and_code_keeps_its_language(tmp_path):
    root = tmp_path / "book"
    shutil.copytree(FIXTURES / "mdbook", root)
    docs, chunks = _passages(root)
    _assert_clean(root, docs, chunks, "The Rust Programming Language")
    by_id = {d.doc_id: d for d in docs}
    assert by_id["ch01-01-installation"].title == "Installation"  # an h2: mdBook's chapters start there
    assert by_id["ch03-05-control-flow"].title == "Control Flow"
    assert by_id["ch01-01-installation"].sections[0].heading_path == ()
    text = "\n".join(s.text for s in by_id["ch01-01-installation"].sections)
    assert "```console\n$ rustup update\n```" in text
    assert "Keyboard shortcuts" not in text and "Previous chapter" not in text


def test_docsy_page_keeps_its_content_and_drops_meta_links_feedback_and_lastmod(tmp_path):
    root = tmp_path / "site"
    shutil.copytree(FIXTURES / "docsy", root)
    docs, chunks = _passages(root)
    # Docsy's page title <h1> has no id and nothing around it has one: that passage links to the page.
    _assert_clean(root, docs, chunks, "Widget Docs", anchorless=frozenset({"installing-widgets"}))
    (doc,) = docs
    assert doc.title == "Installing widgets"
    assert [s.heading_path for s in doc.sections] == [(), ("On Debian",), ("Checking the version",)]
    text = "\n".join(c.text for c in chunks)
    assert "```bash\npip install widgets\nwidgets --version\n```" in text
    for chrome in ("Feedback", "helpful", "Glad to hear", "Last modified", "Edit this page", "Documentation"):
        assert chrome not in text


def test_jekyll_just_the_docs_page_keeps_main_and_drops_sidebar_search_and_footer(tmp_path):
    root = tmp_path / "site"
    shutil.copytree(FIXTURES / "jekyll", root)
    docs, chunks = _passages(root)
    _assert_clean(root, docs, chunks, "Widget Docs")
    (doc,) = docs
    assert doc.title == "Installing widgets"
    assert [s.heading_path for s in doc.sections] == [(), ("On Debian",)]
    text = "\n".join(c.text for c in chunks)
    assert "```shell\npip install widgets\nwidgets --version\n```" in text
    for chrome in ("Back to top", "Copyright", "Edit this page", "Just the Docs", "Home"):
        assert chrome not in text


def _django_subset(tmp_path: Path) -> Path:
    """topics/db/ of Debian's Django docs (20 pages) with the _static files the pages point at left out."""
    root = tmp_path / "django"
    shutil.copytree(DJANGO_DOCS / "topics" / "db", root / "topics" / "db")
    return root


@pytest.mark.skipif(not DJANGO_DOCS.is_dir(), reason="python-django-doc is not installed (run `make system`)")
def test_django_docs_found_without_help_no_banner_titles_or_navigation(tmp_path):
    root = _django_subset(tmp_path)
    docs, chunks = _passages(root)
    assert len(docs) >= 15
    _assert_clean(root, docs, chunks, "Django 3.2.25 documentation")
    by_id = {d.doc_id: d for d in docs}
    assert by_id["topics/db/queries"].title == "Making queries"
    assert by_id["topics/db/managers"].title == "Managers"
    for chunk in chunks:
        assert "Last update" not in chunk.text and "Previous topic" not in chunk.section, chunk.text[:200]
        assert "\uf17c" not in chunk.text  # the console tabs' icon-font glyphs
    text = "\n".join(c.text for c in chunks)
    assert "```\n>>> all_entries = Entry.objects.all()\n```" in text
    # Sphinx's viewcode links after an API entry (managers.html has them) are not words of the entry.
    assert "[source]" not in text and "class Manager" in text
    # No long section ends in a scrap (filled in turn, 12 of these 229 passages did: a sentence or a
    # code block's last lines, under a quarter of the 256-word window, shown alone as an answer).
    scraps = [c.id for c in chunks if "~" in c.id and len(c.text.split()) < 256 * SCRAP]
    assert not scraps, scraps


@pytest.mark.skipif(not DJANGO_DOCS.is_dir(), reason="python-django-doc is not installed (run `make system`)")
def test_django_toc_only_pages_are_left_out_and_counted(tmp_path):
    root = tmp_path / "django"
    (root / "faq").mkdir(parents=True)
    for name in ("index.html", "general.html"):
        shutil.copy(DJANGO_DOCS / "faq" / name, root / "faq" / name)
    outcome = CorpusRead()
    docs = list(iter_documents(root, Site(), outcome))
    assert [d.doc_id for d in docs] == ["faq/general"]
    assert not outcome.errors and len(outcome.skipped.noindex) == 1


DIV_THEME_PAGE = """\
<html><head><title>Levers &#8212; Widgets 2.0 documentation</title></head><body>
<header><h1><span>Widgets 2.0 documentation</span></h1><p>The widget makers' manual</p></header>
<div id="hd"><div class="nav">&laquo; <a href="a.html">previous</a> | <a href="index.html">up</a> |
  <a href="c.html">next</a> &raquo;</div></div>
<div id="bd">
  <div class="yui-b" id="sidebar"><h3>Last update:</h3><p>Nov 11, 2026</p>
    <h3><a href="toc.html">Table of contents</a></h3><ul><li><a href="a.html">Springs</a></li><li><a href="c.html">Cogs</a></li></ul></div>
  <div class="yui-b"><div class="yui-g" id="levers-page">
    <h1 id="levers">Levers<a class="headerlink" href="#levers" title="Permalink to this headline">¶</a></h1>
    <p>A lever turns a small push into a large turn of the sprocket.</p>
    <h2 id="long">Long levers<a class="headerlink" href="#long">¶</a></h2>
    <p>Long levers need less force and more room; most of this page is about them, at length.</p>
    <p>Each long lever is fixed with two bolts and checked once a year for cracks in the arm.</p>
  </div></div>
</div>
<div id="ft"><div class="nav">&laquo; <a href="a.html">previous</a> | <a href="index.html">up</a> |
  <a href="c.html">next</a> &raquo;</div></div>
</body></html>
"""


def test_page_without_a_content_element_is_found_by_its_words(tmp_path):
    # Django's theme marks nothing: no main, no role, a banner <h1>, bars and a sidebar in plain divs.
    (tmp_path / "levers.html").write_text(DIV_THEME_PAGE, encoding="utf-8")
    docs, chunks = _passages(tmp_path)
    _assert_clean(tmp_path, docs, chunks, "Widgets 2.0 documentation")
    (doc,) = docs
    assert doc.title == "Levers"
    assert [(s.heading_path, s.anchor) for s in doc.sections] == [((), "levers"), (("Long levers",), "long")]
    assert "Nov 11" not in "\n".join(c.text for c in chunks)


SELECTOR_PAGE = """\
<html><head><title>Widgets &#8212; Shop</title></head><body>
<div class="page">
  <div class="promo"><p>Our spring sale halves the price of every sprocket in the shop this week.</p></div>
  <div class="text">
    <h1>Widgets</h1>
    <p>Widgets turn levers into sprockets.</p>
    <div class="related"><p>Read about levers before you start with the widgets manual.</p></div>
  </div>
</div>
</body></html>
"""


def test_site_file_selectors_choose_the_content_and_drop_what_heuristics_keep(tmp_path):
    root = tmp_path / "shop"
    root.mkdir()
    (root / "widgets.html").write_text(SELECTOR_PAGE, encoding="utf-8")
    # Without selectors the promotion and the aside are prose like any other: they are kept.
    docs, _ = _passages(root)
    assert "spring sale" in docs[0].sections[0].text
    (root / "beacon.toml").write_text('content = "div.text"\nignore = [".related"]\n', encoding="utf-8")
    docs, _ = _passages(root, load_site(root))
    assert docs[0].title == "Widgets"
    assert docs[0].sections[0].text == "Widgets turn levers into sprockets."


def test_title_without_a_heading_is_the_title_tag_without_the_site_name(tmp_path):
    (tmp_path / "a.html").write_text(
        "<html><head><title>Release notes — Widgets 2.0 documentation</title></head>"
        "<body><main><p>Version 2.0 adds turning in both directions.</p></main></body></html>",
        encoding="utf-8",
    )
    (tmp_path / "b.html").write_text(
        "<html><head><title>FAQ | Widget Docs</title></head>"
        "<body><main><p>Widgets are not sold as toys.</p></main></body></html>",
        encoding="utf-8",
    )
    docs, _ = _passages(tmp_path)
    assert [d.title for d in docs] == ["Release notes", "FAQ"]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('content = "div..body"\n', "'content' has a CSS selector Beacon cannot read"),
        ('ignore = "div.related"\n', "'ignore' must be a list of CSS selectors"),
        ('ignore = ["div >"]\n', "'ignore' has a CSS selector Beacon cannot read"),
    ],
)
def test_bad_selector_in_the_site_file_names_the_setting_and_line(tmp_path, text, words):
    (tmp_path / "beacon.toml").write_text('name = "Docs"\n' + text, encoding="utf-8")
    with pytest.raises(CorpusError) as info:
        load_site(tmp_path)
    assert words in str(info.value) and "beacon.toml:2" in str(info.value)
