"""Reading other people's content: built HTML sites, Markdown without front matter, PDFs, and the
site file (beacon.toml) that says what to read and where the pages live."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from ingest import CorpusError, Site, load_site, read_corpus
from ingest.check import check_corpus
from ingest.reader import CorpusRead, iter_documents
from service.cli import main
from tests.helpers import write_corpus

SITE_PAGE = """\
<!doctype html>
<html lang="de">
<head>
  <title>Install · Example Docs</title>
  <link rel="canonical" href="https://docs.example.org/guide/install/">
  <meta name="description" content="How to install the example tool">
  <style>.x { color: red }</style>
  <script>var tracking = "should not be indexed";</script>
</head>
<body>
  <header><a href="/">Example Docs</a> <span>Header words</span></header>
  <nav><a href="/a">Navigation words</a></nav>
  <main>
    <h1>Installing the tool</h1>
    <p>Run the installer on your computer.</p>
    <div data-beacon-ignore><p>Ignored advert words</p></div>
    <p hidden>Hidden words</p>
    <p style="display: none">Invisible words</p>
    <div aria-hidden="true">Aria hidden words</div>
    <h2 id="on-linux">On Linux</h2>
    <p>Use the package manager: <code>apt install example</code>.</p>
    <pre><code>$ example --version
example 1.2</code></pre>
    <h3>Checking <em>the</em> result</h3>
    <p>The version number is printed.</p>
    <aside>Aside words</aside>
  </main>
  <footer>Footer words © 2026</footer>
</body>
</html>
"""

SPHINX_PAGE = """\
<!DOCTYPE html>
<html lang="en">
<head><title>9. Classes &#8212; Python 3.11 documentation</title>
<link rel="canonical" href="file:///usr/share/doc/python3.11/html/tutorial/classes.html" /></head>
<body>
  <div class="related" role="navigation"><ul><li><a href="../index.html">Related bar words</a></li></ul></div>
  <div class="document"><div class="documentwrapper"><div class="bodywrapper">
    <div class="body" role="main">
      <section id="classes">
        <span id="tut-classes"></span><h1><span class="section-number">9. </span>Classes<a class="headerlink" href="#classes" title="Permalink to this heading">¶</a></h1>
        <p>Classes provide a means of bundling data and functionality together.</p>
        <section id="a-word-about-names-and-objects">
          <span id="tut-object"></span><h2><span class="section-number">9.1. </span>A Word About Names and Objects<a class="headerlink" href="#a-word-about-names-and-objects">¶</a></h2>
          <p>Objects have individuality, and multiple names can be bound to the same object.</p>
        </section>
        <div class="section" id="old-style-section">
          <h2>Old style section<a class="headerlink" href="#old-style-section">¶</a></h2>
          <p>Older Sphinx wraps sections in div elements.</p>
        </div>
      </section>
    </div>
  </div></div>
  <div class="sphinxsidebar" role="navigation"><h3>Table of Contents</h3><p>Sidebar words</p></div>
  </div>
</body></html>
"""

MKDOCS_PAGE = """\
<!doctype html>
<html lang="en">
<head><title>Configuration - My Project</title></head>
<body>
  <div class="md-container">
    <div class="md-sidebar md-sidebar--primary"><p>Sidebar words</p></div>
    <article class="md-content__inner md-typeset">
      <h1 id="configuration">Configuration<a class="headerlink" href="#configuration">¶</a></h1>
      <p>All settings live in <code>mkdocs.yml</code>.</p>
      <h2 id="site_name">site_name<a class="headerlink" href="#site_name">¶</a></h2>
      <p>The title of the documentation site.</p>
    </article>
  </div>
</body>
</html>
"""

PYTHON_DOCS_SITE = """\
name = "Example Docs"
base_url = "https://docs.example.org/"
exclude = ["drafts/**", "search.html"]
"""


def _site_corpus(tmp_path, files, site_toml=PYTHON_DOCS_SITE):
    root = write_corpus(tmp_path / "site", files)
    root.mkdir(exist_ok=True)
    if site_toml is not None:
        (root / "beacon.toml").write_text(site_toml, encoding="utf-8")
    return root


def _read(root, site=None):
    docs, errors = read_corpus(root, site)
    assert not errors, [str(e) for e in errors]
    return {d.doc_id: d for d in docs}


def test_html_page_keeps_main_content_and_drops_chrome_hidden_and_ignored_parts(tmp_path):
    doc = _read(_site_corpus(tmp_path, {"guide/install.html": SITE_PAGE}))["guide/install"]
    text = "\n".join(s.text for s in doc.sections)
    assert "Run the installer" in text and "apt install example" in text
    assert "example --version" in text  # code is kept: people search for commands and names
    for dropped in (
        "Header words",
        "Navigation words",
        "Ignored advert",
        "Hidden words",
        "Invisible words",
        "Aria hidden",
        "Aside words",
        "Footer words",
        "tracking",
        "color: red",
    ):
        assert dropped not in text, dropped
    assert doc.title == "Installing the tool"
    assert [s.heading_path for s in doc.sections] == [(), ("On Linux",), ("On Linux", "Checking the result")]
    assert [s.anchor for s in doc.sections] == ["installing-the-tool", "on-linux", "checking-the-result"]
    # The page says where it lives and in which language.
    assert doc.url == "https://docs.example.org/guide/install/" and doc.lang == "de"
    assert doc.description == "How to install the example tool"


def test_data_beacon_body_wins_over_main(tmp_path):
    page = (
        "<html><body><main><p>Outside the body.</p><div data-beacon-body><h1>Inside</h1>"
        "<p>Run the installer.</p></div><p>Also outside.</p></main></body></html>"
    )
    doc = _read(_site_corpus(tmp_path, {"p.html": page}))["p"]
    assert doc.title == "Inside" and doc.sections[0].text == "Run the installer."
    assert len(doc.sections) == 1


def test_sphinx_page_uses_section_ids_and_drops_permalinks_sidebar_and_related_bar(tmp_path):
    doc = _read(_site_corpus(tmp_path, {"tutorial/classes.html": SPHINX_PAGE}))["tutorial/classes"]
    assert doc.title == "9. Classes"
    assert [s.anchor for s in doc.sections] == ["classes", "a-word-about-names-and-objects", "old-style-section"]
    assert doc.sections[1].heading_path == ("9.1. A Word About Names and Objects",)
    text = "\n".join(s.text for s in doc.sections)
    assert "¶" not in text and "Sidebar words" not in text and "Related bar words" not in text
    # A file:// canonical link is not a public address: base_url + path is used instead.
    assert doc.url == "https://docs.example.org/tutorial/classes.html"


SPHINX_API_PAGE = """\
<!DOCTYPE html>
<html lang="en"><head><title>json — JSON encoder and decoder</title></head>
<body><div class="body" role="main">
<section id="module-json"><h1>json — JSON encoder and decoder</h1>
<p>JSON is a lightweight data interchange format.</p>
<section id="basic-usage"><h2>Basic Usage<a class="headerlink" href="#basic-usage">¶</a></h2>
<dl class="py function">
<dt class="sig sig-object py" id="json.dump"><span class="sig-name">json.dump</span>(obj, fp)</dt>
<dd><p>Serialize obj as a JSON formatted stream to fp.</p></dd></dl>
<dl class="py function">
<dt class="sig sig-object py" id="json.dumps"><span class="sig-name">json.dumps</span>(obj, *, indent=None)</dt>
<dd><p>Serialize obj to a JSON formatted str.</p>
<section id="notes-on-indent"><h4>Notes on indent<a class="headerlink" href="#notes-on-indent">¶</a></h4>
<p>An indent of 0 inserts only newlines.</p></section></dd></dl>
</section></section></div></body></html>
"""


def test_sphinx_api_entries_and_minor_headings_are_link_targets_inside_their_section(tmp_path):
    doc = _read(_site_corpus(tmp_path, {"library/json.html": SPHINX_API_PAGE}))["library/json"]
    assert [s.anchor for s in doc.sections] == ["module-json", "basic-usage"]  # entries are not sections
    usage = doc.sections[1]
    lines = usage.text.split("\n")
    assert [(lines[i], anchor) for i, anchor in usage.targets] == [
        ("json.dump(obj, fp)", "json.dump"),
        ("json.dumps(obj, *, indent=None)", "json.dumps"),
        ("Notes on indent", "notes-on-indent"),
    ]


def test_mkdocs_page_reads_article_and_keeps_heading_ids(tmp_path):
    doc = _read(
        _site_corpus(
            tmp_path,
            {"configuration/index.html": MKDOCS_PAGE},
            site_toml='base_url = "https://example.org/docs/"\npretty_urls = true\n',
        )
    )["configuration/index"]
    assert doc.title == "Configuration"
    assert [s.anchor for s in doc.sections] == ["configuration", "site_name"]
    assert "Sidebar words" not in doc.sections[0].text and "mkdocs.yml" in doc.sections[0].text
    assert doc.url == "https://example.org/docs/configuration/"


def test_noindex_pages_and_drafts_are_skipped_and_counted(tmp_path):
    root = _site_corpus(
        tmp_path,
        {
            "a.html": SITE_PAGE,
            "private.html": SITE_PAGE.replace("<head>", '<head><meta name="robots" content="noindex, nofollow">'),
            "draft.md": "---\ntitle: Not yet\ndraft: true\n---\nUnfinished.\n",
        },
    )
    outcome = CorpusRead()
    docs = list(iter_documents(root, load_site(root), outcome))
    assert [d.doc_id for d in docs] == ["a"]
    assert outcome.skipped.noindex == ["site/private.html"] and outcome.skipped.drafts == ["site/draft.md"]
    assert "skipped 1 page(s) marked noindex" in outcome.skipped.lines()


def test_markdown_folder_without_front_matter_and_with_images_beside_it(tmp_path):
    root = write_corpus(
        tmp_path / "notes",
        {
            "getting-started.md": "# Getting started\n\nInstall it first.\n\n## Next steps\nRead the guide.\n",
            "plain-notes.md": "Some notes without any heading.\n",
            "guide/index.md": '+++\ntitle = "The guide"\ndescription = "All of it"\n+++\nText of the guide.\n',
            "seo.md": "---\ntitle: SEO\nkeywords: search, ranking\ntags: [web]\nslug: search-engines\nlang: fr\n---\nBody.\n",
            "perma.md": "---\ntitle: Perma\npermalink: /about/us/\n---\nAbout us.\n",
        },
    )
    (root / "diagram.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    (root / "guide" / "photo.jpg").write_bytes(b"\xff\xd8\xff" + bytes(100))
    (root / "archive.tar.gz").write_bytes(b"\x1f\x8b" + bytes(50))
    site = load_site(root).with_overrides(base_url="https://notes.example.org/")
    outcome = CorpusRead()
    docs = {d.doc_id: d for d in iter_documents(root, site, outcome)}
    assert not outcome.errors
    assert docs["getting-started"].title == "Getting started"
    # The title heading stands for the page; its sub-headings are not nested under it again.
    assert [s.heading_path for s in docs["getting-started"].sections] == [(), ("Next steps",)]
    assert docs["plain-notes"].title == "Plain notes"
    assert docs["guide/index"].title == "The guide" and docs["guide/index"].description == "All of it"
    assert docs["guide/index"].url == "https://notes.example.org/guide/index.html"
    assert set(docs["seo"].tags) == {"web", "search", "ranking"} and docs["seo"].lang == "fr"
    assert docs["seo"].url == "https://notes.example.org/search-engines.html"
    assert docs["perma"].url == "https://notes.example.org/about/us/"
    assert sorted(outcome.skipped.unsupported) == ["notes/archive.tar.gz", "notes/diagram.png", "notes/guide/photo.jpg"]
    assert outcome.skipped.lines() == ["skipped 3 file(s) Beacon does not read: .gz 1, .png 1, .jpg 1"]


def test_check_and_build_summarise_skipped_files_and_verbose_lists_them(tmp_path):
    root = write_corpus(
        tmp_path / "notes", {"a.md": "# A\n\nText.\n", "b.dot": "digraph {}", "c.dot": "x", "d.png": "x"}
    )
    result = CliRunner().invoke(main, ["check", "--corpus", str(root)])
    assert result.exit_code == 0, result.output
    assert "skipped 3 file(s) Beacon does not read: .dot 2, .png 1" in result.output
    verbose = CliRunner().invoke(main, ["check", "--corpus", str(root), "--verbose"])
    assert "notes/b.dot: skipped: not a type Beacon reads" in verbose.output


def test_the_curated_corpus_stays_strict(tmp_path):
    root = _site_corpus(tmp_path, {"a.md": "No front matter here.\n", "b.png": "x"}, site_toml="strict = true\n")
    _, errors = read_corpus(root)
    messages = sorted(e.problem for e in errors)
    assert any("no YAML front matter" in m for m in messages) and any("unsupported" in m for m in messages)


def test_unreadable_page_is_reported_with_path_and_reason(tmp_path):
    root = _site_corpus(tmp_path, {"good.html": SITE_PAGE})
    (root / "broken.html").write_bytes(b"<html><body><p>caf\xe9</p></body></html>")
    (root / "scan.pdf").write_bytes(b"%PDF-1.4 not really a pdf")
    docs, errors = read_corpus(root)
    assert [d.doc_id for d in docs] == ["good"]
    reasons = {e.path.rsplit("/", 1)[-1]: e.problem for e in errors}
    assert "not valid UTF-8" in reasons["broken.html"]
    assert "cannot read this PDF" in reasons["scan.pdf"]


def test_include_and_exclude_globs(tmp_path):
    root = _site_corpus(tmp_path, {"a.html": SITE_PAGE, "search.html": SITE_PAGE, "drafts/x.html": SITE_PAGE})
    outcome = CorpusRead()
    assert [d.doc_id for d in iter_documents(root, load_site(root), outcome)] == ["a"]
    assert sorted(outcome.skipped.excluded) == ["site/drafts/x.html", "site/search.html"]
    only = Site(include=("drafts/**",))
    assert [d.doc_id for d in iter_documents(root, only, CorpusRead())] == ["drafts/x"]


@pytest.mark.parametrize(
    "text, words",
    [
        ("name = 3\n", "'name' must be a str"),
        ('nmae = "x"\n', "unknown setting 'nmae'"),
        ('base_url = "docs.example.org"\n', "not an http(s) address"),
        ('on_error = "ignore"\n', "on_error must be"),
        ('[copy]\nintroduction = "x"\n', "unknown [copy] key 'introduction'"),
        ('name = "unclosed\n', "not valid TOML"),
        ("lexical_weight = -1\n", "'lexical_weight' must be a number of 0 or more"),
        ('dense_weight = "high"\n', "'dense_weight' must be a number of 0 or more"),
        ("lexical_weight = true\n", "'lexical_weight' must be a number of 0 or more"),
    ],
)
def test_bad_site_file_names_the_setting(tmp_path, text, words):
    root = _site_corpus(tmp_path, {"a.md": "# A\n\nText.\n"}, site_toml=text)
    with pytest.raises(CorpusError) as info:
        load_site(root)
    assert words in str(info.value) and "beacon.toml" in str(info.value)


def test_site_file_elsewhere_and_pretty_urls():
    site = Site(base_url="https://example.org/docs", pretty_urls=True)
    assert site.page_url("guide/install.html") == "https://example.org/docs/guide/install"
    assert site.page_url("guide/index.html") == "https://example.org/docs/guide/"
    assert site.page_url("notes/setup.md") == "https://example.org/docs/notes/setup"
    assert Site(base_url="https://example.org/").page_url("manual.pdf") == "https://example.org/manual.pdf"
    assert Site().page_url("a.html") is None


def test_pdf_pages_become_sections_with_page_links(tmp_path):
    fpdf = pytest.importorskip("fpdf")
    pdf = fpdf.FPDF()
    pdf.set_font("Helvetica", size=12)
    for text in (
        "Annual report. Our volunteers answered many calls this year.",
        "Finances. Donations paid for the helpline and the website.",
    ):
        pdf.add_page()
        pdf.multi_cell(0, 10, text)
    root = _site_corpus(tmp_path, {}, site_toml='base_url = "https://example.org/"\n')
    pdf.output(str(root / "report.pdf"))
    blank = fpdf.FPDF()
    blank.add_page()
    blank.output(str(root / "scanned.pdf"))
    docs, errors = read_corpus(root)
    (doc,) = docs
    assert [s.anchor for s in doc.sections] == ["page=1", "page=2"]
    assert "helpline" in doc.sections[1].text
    assert doc.url == "https://example.org/report.pdf"
    assert [e.problem for e in errors] == ["PDF has no text layer (1 page(s) of images?)"]


def test_check_on_a_site_folder_without_settings_file_reads_html_and_markdown(tmp_path):
    root = write_corpus(tmp_path / "docs", {"index.html": SITE_PAGE, "notes.md": "Just notes.\n"})
    problems = check_corpus(root, site=load_site(root))
    assert [p for p in problems if p.severity == "error"] == [], [str(p) for p in problems]


def test_raw_html_in_site_markdown_is_not_read_as_words_and_is_escaped_when_shown(tmp_path):
    root = write_corpus(
        tmp_path / "notes",
        {
            "readme-like.md": (
                '# Project\n\n<div align="center">\n<img src="logo.png" alt="logo">\n</div>\n\n'
                "Install it with <kbd>pip</kbd>.\n\n<script>alert(1)</script>\n"
            )
        },
    )
    (doc,) = read_corpus(root, load_site(root))[0]
    text = doc.sections[0].text
    assert "Install it with pip." in text and "<" not in text and "alert" not in text
    assert "<script>" not in doc.sections[0].html


def test_restructuredtext_sections_keep_their_ids_and_sphinx_roles_keep_their_words(tmp_path):
    root = write_corpus(
        tmp_path / "docs",
        {
            "guide/install.rst": """\
        :orphan:

        Installing
        ==========

        Use :doc:`the quickstart <quickstart>` or :ref:`pip <pip-ref>` to install.

        .. code-block:: shell

           python -m pip install example

        .. some-sphinx-extension::

        Upgrading
        ---------

        Run ``pip install --upgrade example``.
        """
        },
    )
    site = load_site(root).with_overrides(base_url="https://example.org/")
    (doc,) = read_corpus(root, site)[0]
    assert doc.title == "Installing" and doc.url == "https://example.org/guide/install.html"
    assert [(s.heading_path, s.anchor) for s in doc.sections] == [((), "installing"), (("Upgrading",), "upgrading")]
    assert "the quickstart" in doc.sections[0].text and "pip install example" in doc.sections[0].text
    assert "orphan" not in doc.sections[0].text
