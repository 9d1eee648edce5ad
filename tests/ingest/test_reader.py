"""Reading corpus files: good files become documents, bad ones name the file and line."""

from __future__ import annotations

import pytest

from ingest import CorpusError, load_corpus, read_corpus
from tests.helpers import write_corpus

GOOD = """\
---
title: Good
links: []
---
Body text.
"""


def only_error(tmp_path, files):
    docs, errors = read_corpus(write_corpus(tmp_path / "c", files))
    assert len(errors) == 1, errors
    return errors[0]


def test_reads_front_matter_sections_and_links(tiny_corpus):
    docs = {d.doc_id: d for d in load_corpus(tiny_corpus)}
    assert set(docs) == {"apps/mi-jian", "offline/hospital", "notes"}
    mj = docs["apps/mi-jian"]
    assert mj.title == "Mi Jian app"
    assert mj.aliases == ("觅健",)
    assert [l.url for l in mj.links] == ["https://example.org/mijian"]
    assert mj.last_reviewed == "2026-11-01"
    assert [s.heading_path for s in mj.sections] == [(), ("What you will find",)]
    assert "I-131" in mj.sections[1].text


def test_nested_headings_keep_their_path_and_line(tmp_path):
    body = GOOD.replace("Body text.\n", "Intro.\n\n## Online\nA.\n\n### Apps\nB.\n\n## Offline\nC.\n")
    doc = load_corpus(write_corpus(tmp_path / "c", {"d.md": body}))[0]
    assert [s.heading_path for s in doc.sections] == [(), ("Online",), ("Online", "Apps"), ("Offline",)]
    assert [s.line for s in doc.sections] == [5, 7, 10, 13]


def test_bad_yaml_names_file_and_line(tmp_path):
    err = only_error(tmp_path, {"bad.md": "---\ntitle: Fine\naliases: [unclosed\nlinks: []\n---\nBody\n"})
    assert err.path.endswith("bad.md")
    assert err.line in (3, 4)
    assert "YAML" in str(err) and "bad.md:" in str(err)


def test_missing_title_is_an_error(tmp_path):
    err = only_error(tmp_path, {"t.md": "---\naliases: [x]\n---\nBody\n"})
    assert "title" in err.problem and err.path.endswith("t.md") and err.line == 1


def test_missing_front_matter_is_an_error(tmp_path):
    err = only_error(tmp_path, {"t.md": "Just text, no front matter\n"})
    assert "front matter" in err.problem


def test_empty_file_and_empty_body_are_errors(tmp_path):
    docs, errors = read_corpus(write_corpus(tmp_path / "c", {"empty.md": "", "nobody.md": "---\ntitle: X\n---\n\n"}))
    assert not docs
    messages = {e.path.rsplit("/", 1)[-1]: e for e in errors}
    assert "empty" in messages["empty.md"].problem
    assert "no text" in messages["nobody.md"].problem and messages["nobody.md"].line == 4


def test_other_formats_are_refused_by_name(tmp_path):
    err = only_error(tmp_path, {"guide.pdf": "%PDF-1.4"})
    assert "unsupported" in err.problem and err.path.endswith("guide.pdf")


def test_invalid_utf8_gives_the_line(tmp_path):
    root = tmp_path / "c"
    root.mkdir()
    (root / "latin1.md").write_bytes(b"---\ntitle: Caf\xe9\n---\nBody\n")
    docs, errors = read_corpus(root)
    assert errors[0].line == 2 and "UTF-8" in errors[0].problem


def test_non_http_link_is_refused(tmp_path):
    err = only_error(
        tmp_path, {"l.md": "---\ntitle: L\nlinks:\n  - text: x\n    url: javascript:alert(1)\n---\nBody\n"}
    )
    assert "http" in err.problem and err.line == 3


def test_unicode_headings_get_readable_anchors(tmp_path):
    doc = load_corpus(
        write_corpus(tmp_path / "c", {"zh.md": "---\ntitle: 觅健\n---\n介绍。\n\n## 如何加入病友群\n问护士。\n"})
    )[0]
    assert [s.anchor for s in doc.sections] == ["觅健", "如何加入病友群"]


def test_duplicate_headings_get_distinct_anchors(tmp_path):
    doc = load_corpus(write_corpus(tmp_path / "c", {"d.md": GOOD + "\n## Tips\nA.\n\n## Tips\nB.\n"}))[0]
    assert [s.anchor for s in doc.sections] == ["good", "tips", "tips-2"]


def test_raw_html_in_corpus_is_escaped_when_rendered(tmp_path):
    doc = load_corpus(
        write_corpus(tmp_path / "c", {"x.md": GOOD.replace("Body text.", "<script>alert(1)</script> hi")})
    )[0]
    assert "<script>" not in doc.sections[0].html and "&lt;script&gt;" in doc.sections[0].html


def test_hidden_files_are_not_content_and_a_curated_readme_is_left_out_by_its_own_exclude(tmp_path):
    files = {"README.md": "# For curators\n", ".draft.md": "x", "a.md": GOOD}
    root = write_corpus(tmp_path / "c", {**files, "beacon.toml": 'strict = true\nexclude = ["README.md"]\n'})
    assert [d.doc_id for d in load_corpus(root)] == ["a"]


def test_a_folders_readme_is_its_page_and_is_listed_when_left_out(tmp_path):
    from ingest import Site
    from ingest.reader import scan_corpus

    root = write_corpus(
        tmp_path / "c", {"README.md": "# Tool\n\nInstall it.\n", "docs/index.md": "# Docs\n\nRead on.\n"}
    )
    docs = load_corpus(root, Site())
    assert {(d.doc_id, d.title) for d in docs} == {("README", "Tool"), ("docs/index", "Docs")}
    _, skipped = scan_corpus(root, Site(exclude=("README.md",)))
    assert skipped.listing() == ["c/README.md: skipped: excluded by the site's globs"]


def test_a_sites_pages_starting_with_underscore_are_read_but_its_underscore_folders_are_not(tmp_path):
    from ingest import load_site
    from ingest.reader import scan_corpus

    page = "<html><body><main><h1>{}</h1><p>Text.</p></main></body></html>"
    root = write_corpus(
        tmp_path / "site",
        {
            "library/__main__.html": page.format("__main__ — Top-level code environment"),
            "library/_thread.html": page.format("_thread — Low-level threading API"),
            "_static/basic.html": page.format("Theme"),
            "_sources/index.rst.txt": "Sources",
            "_notes.yaml": "not: content",
        },
    )
    files, skipped = scan_corpus(root, load_site(root))
    assert [f.relative_to(root).as_posix() for f in files] == ["library/__main__.html", "library/_thread.html"]
    assert skipped.total() == 0  # Beacon's own kind of file (_scope.yaml) is not counted as skipped


def test_curated_corpus_still_leaves_out_every_name_starting_with_underscore(tmp_path):
    docs = load_corpus(write_corpus(tmp_path / "c", {"_draft.md": GOOD, "a.md": GOOD}))
    assert [d.doc_id for d in docs] == ["a"]


def test_load_corpus_raises_first_problem_and_counts_the_rest(tmp_path):
    root = write_corpus(tmp_path / "c", {"a.md": "", "b.md": "", "c.md": GOOD})
    with pytest.raises(CorpusError) as info:
        load_corpus(root)
    assert "a.md" in str(info.value) and "1 more" in str(info.value)
