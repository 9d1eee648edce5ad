"""Markdown as the common generators write it, read from real pages (tests/fixtures/README.md says
whose): no generator markup in any passage or title, anchors that exist on the published page, code
kept as code and searchable."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from ingest import Site, chunk_documents, load_corpus
from ingest.reader import CorpusRead, iter_documents, read_corpus
from ingest.text import split_blocks
from tests.helpers import LOCAL, make_settings, write_corpus

FIXTURES = Path(__file__).parent.parent / "fixtures"
# What a reader must never see (in prose, and {! in code): attribute lists, includes, admonition and container fences,
# snippet markers, Hugo shortcodes, MDX import lines.
MARKUP = re.compile(r"\{ ?#|\{\*|\{!|^///|!!!|^:::|--8<--|\{\{[<%]|^import\s.+\sfrom\s", re.M)


def _prose(text: str) -> str:
    return "\n".join(b.text for b in split_blocks(text) if not b.code)


def _site_chunks(folder: Path):
    docs = load_corpus(folder, Site())
    return docs, chunk_documents(docs, 128, lambda t: len(t.split()) + 2)


@pytest.mark.parametrize("folder", ["fastapi-docs", "pyenv-virtualenv"])
def test_no_generator_markup_in_any_passage_or_title(folder):
    docs, chunks = _site_chunks(FIXTURES / folder)
    assert chunks
    for doc in docs:
        assert not MARKUP.search(doc.title), doc.title
        for section in doc.sections:
            assert not any(MARKUP.search(h) for h in section.heading_path), section.heading_path
    for c in chunks:
        assert not MARKUP.search(_prose(c.text)) and "{!" not in c.text, (c.id, c.text)
        assert not MARKUP.search(c.section), c.section


def test_heading_ids_are_the_anchors_the_generator_publishes():
    docs, _ = _site_chunks(FIXTURES / "fastapi-docs")
    german = next(d for d in docs if d.doc_id == "de/tutorial/cors")
    written = re.findall(r"^#+ .*\{ #([\w-]+) \}$", (FIXTURES / "fastapi-docs/de/tutorial/cors.md").read_text(), re.M)
    assert [s.anchor for s in german.sections] == written  # 'steps', not 'schritte' or 'steps-steps'
    assert german.title == "CORS (Cross-Origin Resource Sharing)"
    english = next(d for d in docs if d.doc_id == "tutorial/cors")
    # Without ids, MkDocs' own slug of the heading text.
    assert [s.anchor for s in english.sections][:4] == [
        "cors-cross-origin-resource-sharing",
        "origin",
        "steps",
        "wildcards",
    ]
    # Inline code stays in its sentence.
    steps = next(s for s in english.sections if s.anchor == "steps")
    assert "a frontend running in your browser at http://localhost:8080, and its JavaScript" in steps.text

    readme = load_corpus(FIXTURES / "pyenv-virtualenv", Site())[0]
    # GitHub's ids for the README's headings (a heading with no text of its own has no section).
    assert [s.anchor for s in readme.sections][:3] == [
        "pyenv-virtualenv-aka-python-virtualenv",
        "installing-as-a-pyenv-plugin",
        "using-pyenv-virtualenv-with-pyenv",
    ]


def test_admonition_blocks_keep_their_title_and_words():
    docs, _ = _site_chunks(FIXTURES / "fastapi-docs")
    section = next(s for d in docs if d.doc_id == "tutorial/cors" for s in d.sections if s.anchor == "more-info")
    assert "Technical Details\nYou could also use from starlette.middleware.cors import CORSMiddleware." in section.text


def test_an_include_outside_the_folder_is_dropped_and_one_inside_is_read_as_code(tmp_path):
    from ingest.check import check_corpus

    outside = write_corpus(
        tmp_path / "site", {"guide.md": "# Guide\n\nBefore.\n\n{* ../../docs_src/app.py hl[1] *}\n\nAfter.\n"}
    )
    docs = load_corpus(outside, Site())
    assert docs[0].sections[0].text == "Before.\nAfter."
    problems = check_corpus(outside, site=Site())
    assert [(p.line, p.severity) for p in problems if "include" in p.message] == [(5, "warning")]
    outcome = CorpusRead()
    assert len(list(iter_documents(outside, Site(), outcome))) == 1  # the page is built...
    assert outcome.skipped.includes == ["site/guide.md: ../../docs_src/app.py"]  # ...and the include counted
    assert "left out 1 include(s) of files outside the folder (--verbose lists them)" in outcome.skipped.lines()

    inside = write_corpus(
        tmp_path / "inside",
        {
            "guide.md": '# Guide\n\nRun:\n\n{* src/app.py hl[1] *}\n\n--8<-- "parts/note.md"\n\n```py\n{!> src/app.py!}\n```\n',
            "src/app.py": "print('hello from app')\n",
            "parts/note.md": "A shared *note*.\n",
        },
    )
    text = next(d for d in load_corpus(inside, Site()) if d.doc_id == "guide").sections[0].text
    assert text == "Run:\n```python\nprint('hello from app')\n```\nA shared note.\n```py\nprint('hello from app')\n```"


def test_docusaurus_hugo_tabs_and_myst_read_as_text(tmp_path):
    page = "\n".join(
        [
            "import Tabs from '@theme/Tabs';",
            "import TabItem from '@theme/TabItem';",
            "",
            "# Install { #install }",
            "",
            ":::note Heads up",
            "Read this first.",
            ":::",
            "",
            "<Tabs>",
            '  <TabItem value="pip" label="pip">',
            "    Run pip install beacon now.",
            "  </TabItem>",
            "</Tabs>",
            "",
            "{{< hint info >}}",
            "Hugo hint text.",
            "{{< /hint >}}",
            "",
            '=== "Linux"',
            "",
            "    ```bash",
            "    apt-get install beacon",
            "    ```",
            "",
            "```{note}",
            ":class: tip",
            "A MyST note.",
            "```",
            "",
            "!!! warning",
            "    Mind the gap.",
        ]
    )
    doc = load_corpus(write_corpus(tmp_path / "site", {"page.md": page}), Site())[0]
    assert doc.title == "Install" and doc.sections[0].anchor == "install"
    assert doc.sections[0].text == (
        "Heads up\nRead this first.\nRun pip install beacon now.\nHugo hint text.\nLinux\n"
        "```bash\napt-get install beacon\n```\nNote\nA MyST note.\nWarning\nMind the gap."
    )


def test_readme_code_blocks_stay_in_the_passage_and_are_found_by_search(tmp_path, embedder):
    from fastapi.testclient import TestClient

    from index import build_index
    from service.app import create_app

    corpus = shutil.copytree(FIXTURES / "pyenv-virtualenv", tmp_path / "pyenv")
    index_dir = tmp_path / "index"
    build_index(corpus, index_dir, embedder, site=Site())
    with TestClient(create_app(make_settings(index_dir, corpus), embedder=embedder), base_url=LOCAL) as client:
        body = client.get("/api/search", params={"q": "pyenv virtualenv --distribute 2.7.3 venv27"}).json()
        top = body["results"][0]
        assert top["id"] == "README#using-pyenv-virtualenv-with-pyenv"
        assert "```\n$ pyenv virtualenv --distribute 2.7.3 venv27\n```" in top["text"]
        page = client.get("/", params={"q": "pyenv virtualenv --distribute 2.7.3 venv27"}).text
        code = r"<pre><code>(?:<strong class=\"answer-span\">)?\$ <mark>pyenv</mark> <mark>virtualenv</mark> --<mark>distribute</mark> 2\.7\.3"
        assert re.search(r'<div class="answer-text">' + code, page)  # an answer that is code shows as code
        assert re.search(r'<div class="passage-text">.*' + code, page, re.S)
        source = client.get("/source/README").text
        assert "<pre><code>$ pyenv virtualenv --distribute 2.7.3 venv27\n</code></pre>" in source


def test_every_fixture_passage_reads_without_errors():
    for folder in ("fastapi-docs", "pyenv-virtualenv"):
        docs, errors = read_corpus(FIXTURES / folder, Site())
        assert docs and not errors


def test_a_section_of_code_alone_is_not_reported_empty(tmp_path):
    from ingest.check import check_corpus

    folder = write_corpus(tmp_path / "site", {"a.md": "# A\n\nIntro.\n\n## Install\n\n```sh\npip install a\n```\n"})
    assert check_corpus(folder, site=Site()) == []
    assert load_corpus(folder, Site())[0].sections[1].text == "```sh\npip install a\n```"


@pytest.mark.parametrize("folder", ["fastapi-docs", "pyenv-virtualenv"])
def test_the_source_page_shows_no_generator_markup_and_no_escaped_tags(folder):
    for doc in load_corpus(FIXTURES / folder, Site()):
        for section in doc.sections:
            visible = re.sub(r"<[^>]+>", "", section.html)
            assert not MARKUP.search(visible) and "&lt;" not in visible, section.html
    docs = load_corpus(FIXTURES / "fastapi-docs", Site())
    more_info = next(s for d in docs if d.doc_id == "tutorial/cors" for s in d.sections if s.anchor == "more-info")
    assert '<p class="admonition-title">Technical Details</p>' in more_info.html


def test_braces_that_are_not_attributes_stay_in_the_heading(tmp_path):
    page = "# Guide\n\n## Format strings {name}\n\nText.\n\n## Install {: #setup .big }\n\nMore.\n"
    doc = load_corpus(write_corpus(tmp_path / "site", {"g.md": page}), Site())[0]
    assert [(s.heading_path[-1], s.anchor) for s in doc.sections] == [
        ("Format strings {name}", "format-strings-name"),
        ("Install", "setup"),
    ]


def test_a_terminal_block_shows_the_command_not_its_colouring(tmp_path):
    # As FastAPI's first-steps page writes it: a console block inside <div class="termy">.
    page = (
        '# First Steps\n\nRun the live server:\n\n<div class="termy">\n\n```console\n'
        '$ <font color="#4E9A06">fastapi</font> dev <u style="text-decoration-style:single">main.py</u>\n'
        '<font color="#4E9A06">INFO</font>:     Will watch for changes in these directories: [&apos;/home/user/code/awesomeapp&apos;]\n'
        "```\n\n</div>\n\n```html\n<b>kept as written</b>\n```\n"
    )
    doc = load_corpus(write_corpus(tmp_path / "site", {"first-steps.md": page}), Site())[0]
    assert doc.sections[0].text == (
        "Run the live server:\n```console\n$ fastapi dev main.py\n"
        "INFO:     Will watch for changes in these directories: ['/home/user/code/awesomeapp']\n```\n"
        "```html\n<b>kept as written</b>\n```"
    )
