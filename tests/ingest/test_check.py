"""`beacon check`: every problem with file:line, warnings apart from errors, exit 1 on errors."""

from __future__ import annotations

import re

from click.testing import CliRunner

from ingest.check import check_corpus
from service.cli import main
from tests.helpers import DEFAULT_CORPUS, write_corpus

GOOD = """\
    ---
    title: {title}
    links: []
    ---
    Intro about {title}.

    ## Details
    Some text about {title}.
    """


def _corpus(tmp_path, extra: dict[str, str]):
    files = {"a.md": GOOD.format(title="Alpha"), "sub/b.md": GOOD.format(title="Beta")}
    return write_corpus(tmp_path / "corpus", {**files, **extra})


def test_clean_corpus_and_shipped_corpus_have_no_errors(tmp_path, embedder):
    assert check_corpus(_corpus(tmp_path, {})) == []
    shipped = check_corpus(DEFAULT_CORPUS, embedder.max_tokens, embedder.count_tokens)
    assert [p for p in shipped if p.severity == "error"] == [], [str(p) for p in shipped]


def test_every_rule_reports_file_line_and_hint(tmp_path, embedder):
    corpus = _corpus(
        tmp_path,
        {
            "bad-yaml.md": "---\ntitle: ok\nlinks: {oops\n---\nx\n",
            "dup-title.md": GOOD.format(title="alpha"),
            "a.txt": "Another Alpha doc\n\nSame id as a.md.\n",
            "links.md": """\
            ---
            title: Links
            ---
            See [Beta](sub/b.md) and [the source page](/source/a).

            Also [gone](sub/missing.md), [old page](/source/nowhere#x),
            and [mail us](mailto:someone@example.org).
            """,
            "sections.md": """\
            ---
            title: Sections
            summary: a key nobody reads
            ---
            Intro.

            ## Empty heading

            ## Parent
            ### Child
            Child text.
            """,
            "long.md": "---\ntitle: Long\n---\nIntro.\n\n## Very long\n"
            + " ".join(f"Sentence {i} tells patients about the community in detail." for i in range(120))
            + "\n",
        },
    )
    problems = check_corpus(corpus, embedder.max_tokens, embedder.count_tokens)
    lines = [str(p) for p in problems]

    def has(path, line, severity, words):
        assert any(
            (p.path, p.line, p.severity) == (f"corpus/{path}", line, severity) and words in p.message and p.hint
            for p in problems
        ), (path, line, words, lines)

    has("bad-yaml.md", 3, "error", "not valid YAML")
    has("dup-title.md", 2, "error", "title 'alpha' is also used by corpus/a.md")
    has("a.txt", None, "error", "document id 'a' is also used by corpus/a.md")
    has("links.md", 6, "error", "'sub/missing.md' points at a document that does not exist")
    has("links.md", 6, "error", "'/source/nowhere#x' points at a document that does not exist")
    has("links.md", 7, "error", "'mailto:someone@example.org' is not an http(s) address")
    has("sections.md", 3, "warning", "unknown front matter key 'summary'")
    has("sections.md", 7, "warning", "section 'Empty heading' is empty")
    has("long.md", 6, "warning", "too long to embed in one piece")
    assert not any("Parent" in l or "sub/b.md'" in l or "/source/a'" in l for l in lines), lines
    assert all(l.count(": error: ") + l.count(": warning: ") == 1 and "(hint: " in l for l in lines)


def test_cli_exits_1_on_errors_and_0_on_warnings_only(tmp_path):
    corpus = _corpus(tmp_path, {"c.md": "---\ntitle: C\nfoo: 1\n---\nText [x](ftp://example.org/file).\n"})
    result = CliRunner().invoke(main, ["check", "--corpus", str(corpus), "--no-model"])
    assert result.exit_code == 1, result.output
    assert "corpus/c.md:5: error: link 'ftp://example.org/file' is not an http(s) address" in result.output
    assert "corpus/c.md:3: warning: unknown front matter key 'foo'" in result.output
    assert "1 error(s), 1 warning(s)" in result.output

    (corpus / "c.md").write_text("---\ntitle: C\nfoo: 1\n---\nText.\n")
    result = CliRunner().invoke(main, ["check", "--corpus", str(corpus), "--no-model"])
    assert result.exit_code == 0, result.output
    assert "Corpus OK: 1 warning(s)." in result.output


def test_curator_commands_have_help_and_bad_settings_are_plain_errors():
    for cmd in (["check"], ["versions"], ["rollback"], ["build"]):
        result = CliRunner().invoke(main, [*cmd, "--help"])
        assert result.exit_code == 0 and "Usage:" in result.output, result.output
    assert "--watch" in CliRunner().invoke(main, ["build", "--help"]).output
    result = CliRunner().invoke(main, ["versions"], env={"BEACON_ADMIN_TOKEN": "short"})
    assert result.exit_code == 1 and "BEACON_ADMIN_TOKEN" in result.output and "Traceback" not in result.output


def test_a_dead_link_in_someone_elses_docs_is_a_warning_and_check_agrees_with_build(tmp_path, embedder):
    from index import build_index
    from ingest import Site

    folder = write_corpus(
        tmp_path / "tool",
        {
            "README.md": "# Tool\n\nSee [the changelog](../CHANGELOG.md) and [usage](docs/usage.md).\n",
            "docs/usage.md": "# Usage\n\nRun it.\n",
        },
    )
    problems = check_corpus(folder, site=Site())
    assert [(p.path, p.line, p.severity) for p in problems] == [("tool/README.md", 3, "warning")]
    assert "/source/" not in problems[0].hint and "not among the pages Beacon reads" in problems[0].message
    report = build_index(folder, tmp_path / "index", embedder, site=Site())  # build goes ahead, as check says
    assert report.documents == 2

    result = CliRunner().invoke(main, ["check", "--corpus", str(folder)])
    assert result.exit_code == 0, result.output
    assert "fix the errors" not in result.output and "Corpus OK: 1 warning(s)." in result.output
    # What a build would index, and how long it would take here (measured now, so only its form is fixed).
    assert "would index 2 document(s) (.md 2) as 2 passage(s)" in result.output
    assert re.search(
        r"estimated build time on this machine: about \d+ s \(.* a second, the rate measured on", result.output
    )
    # (Under the curated rules a dead link stays an error: test_every_rule_reports_file_line_and_hint.)


def test_check_lists_includes_left_out_like_skipped_files(tmp_path):
    folder = write_corpus(tmp_path / "site", {"a.md": '# A\n\nText.\n\n--8<-- "../shared/abbr.md"\n'})
    result = CliRunner().invoke(main, ["check", "--corpus", str(folder), "--no-model", "--verbose"])
    assert "would index 1 document(s) (.md 1)" in result.output
    assert "site/a.md: ../shared/abbr.md: include left out: not a file inside the folder" in result.output
    assert "site/a.md:5: warning: include '../shared/abbr.md' is not a file inside the folder" in result.output
