"""Other people's files: a symlink, a FIFO, a NUL-bearing page, a deep DOM, a bad charset, an
encrypted or bombed PDF, an odd file name. None may publish a secret, hang the build or stop it
with a traceback; each is a skipped file with its reason or the file's own error line."""

from __future__ import annotations

import os
import zlib
from pathlib import Path

import pytest

from ingest import CorpusError, Site, load_corpus, read_corpus
from ingest.check import check_corpus
from ingest.limits import MAX_FILE_BYTES, MAX_HTML_DEPTH, MAX_PDF_PAGES
from ingest.reader import CorpusRead, iter_documents, scan_corpus
from tests.helpers import write_corpus

LENIENT = Site(on_error="skip")
SECRET = "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMIEXAMPLEKEY"
GOOD = "# Good page\n\nRehabilitation lectures are held every week.\n"


def _read(root: Path, site: Site = LENIENT) -> tuple[dict, CorpusRead]:
    outcome = CorpusRead()
    docs = {d.doc_id: d for d in iter_documents(root, site, outcome)}
    return docs, outcome


def _all_text(docs: dict) -> str:
    return "\n".join(s.text for d in docs.values() for s in d.sections)


def _errors(outcome: CorpusRead) -> dict[str, str]:
    return {Path(e.path).name: str(e) for e in outcome.errors}


def hostile_links(tmp_path: Path) -> Path:
    """A content folder holding links out of it, a FIFO and a NUL-bearing page beside two good pages."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(f"Secrets\n\n{SECRET}\n", encoding="utf-8")
    root = write_corpus(tmp_path / "site" / "content", {"good.md": GOOD, ".env": SECRET + "\n"})
    (root / "docs").mkdir()
    (root / "passwd.txt").symlink_to("/etc/passwd")
    (root / "env.html").symlink_to("/proc/self/environ")
    (root / "docs" / "leak.txt").symlink_to("../../../outside/secret.txt")  # content/docs → tmp_path/outside
    (root / "dotenv.txt").symlink_to(".env")  # inside, but a hidden file is never content
    (root / "dangling.md").symlink_to("missing.md")
    (root / "loop.md").symlink_to("loop.md")
    (root / "inside.md").symlink_to("good.md")  # a link to a page of the folder still works
    os.mkfifo(root / "pipe.md")
    (root / "nul.html").write_bytes(
        b"<html><body><p>Looks like a page\x00\x00" + SECRET.encode() + b"</p></body></html>"
    )
    return root


# --- H1: links out of the folder, special files, NUL bytes ---


def test_symlinks_out_of_the_folder_fifos_and_nul_pages_are_never_read(tmp_path):
    root = hostile_links(tmp_path)
    docs, outcome = _read(root)
    assert set(docs) == {"good", "inside"}
    assert docs["inside"].sections[0].text == docs["good"].sections[0].text
    text = _all_text(docs)
    assert "root:x:0" not in text and SECRET not in text and "PATH=" not in text
    refused = dict(outcome.skipped.refused)
    assert refused == {
        "content/passwd.txt": "symlink to a file outside the content folder",
        "content/env.html": "symlink to a file outside the content folder",
        "content/docs/leak.txt": "symlink to a file outside the content folder",
        "content/dotenv.txt": "symlink to a hidden file",
        "content/dangling.md": "symlink whose target does not exist",
        "content/loop.md": "symlink that loops",
        "content/pipe.md": "special file (a FIFO), not a regular file",
    }
    # The NUL-bearing page is an error line, never read as text.
    assert list(_errors(outcome)) == ["nul.html"]
    assert "NUL bytes" in _errors(outcome)["nul.html"] and SECRET not in _errors(outcome)["nul.html"]


def test_refused_files_are_counted_and_listed_with_their_reason(tmp_path):
    root = hostile_links(tmp_path)
    _, outcome = _read(root)
    summary = "\n".join(outcome.skipped.lines())
    assert "refused 7 file(s)" in summary
    assert "symlink to a file outside the content folder 3" in summary
    assert "content/passwd.txt: skipped: symlink to a file outside the content folder" in outcome.skipped.listing()
    assert "content/pipe.md: skipped: special file (a FIFO), not a regular file" in outcome.skipped.listing()
    # `beacon check` sees the same files as the build.
    check_outcome = CorpusRead()
    problems = check_corpus(root, site=LENIENT, outcome=check_outcome)
    assert check_outcome.skipped.refused == outcome.skipped.refused
    assert [p.path for p in problems if p.severity == "error"] == ["content/nul.html"]


def test_a_file_read_at_build_time_is_checked_again(tmp_path):
    """The scan's verdict is not trusted blindly: a link swapped to point outside after the scan
    (a checkout updated during a build) is refused when the file is read."""
    root = write_corpus(tmp_path / "content", {"good.md": GOOD, "page.md": GOOD})
    (tmp_path / "secret.md").write_text(f"# Secret\n\n{SECRET}\n", encoding="utf-8")
    files, _ = scan_corpus(root, LENIENT)
    (root / "page.md").unlink()
    (root / "page.md").symlink_to(tmp_path / "secret.md")
    from ingest.reader import read_document

    with pytest.raises(CorpusError, match="symlink to a file outside the content folder"):
        read_document(root / "page.md", root, LENIENT)
    assert len(files) == 2


# --- M1: one hostile file is one error line, in bounded time ---


def _page(body: str) -> str:
    return f"<!doctype html><html><body><main><h1>Deep</h1>{body}</main></body></html>"


@pytest.mark.parametrize(
    "name, body",
    [
        ("divs.html", "<div>" * 1200 + "deep words" + "</div>" * 1200),
        ("spans.html", "<span>" * 3000 + "deep words"),
        # 200,000 levels: lexbor's tree building is quadratic in depth (40,000 levels took 2.9 s),
        # so this page would take minutes if it were parsed before being measured.
        ("huge.html", "<div>" * 200_000 + "deep words" + "</div>" * 200_000),
    ],
)
def test_a_deeply_nested_page_is_an_error_line_and_the_rest_is_read(tmp_path, name, body):
    root = write_corpus(tmp_path / "content", {"good.md": GOOD, name: _page(body)})
    docs, outcome = _read(root)
    assert set(docs) == {"good"}
    message = _errors(outcome)[name]
    assert f"nested more than {MAX_HTML_DEPTH} elements deep" in message
    # With on_error = "stop" the same problem is the build's one clear error.
    with pytest.raises(CorpusError, match=f"{name}.*nested more than"):
        load_corpus(root, Site())


def test_a_page_nested_just_under_the_limit_is_read(tmp_path):
    depth = MAX_HTML_DEPTH - 20
    root = write_corpus(tmp_path / "content", {"ok.html": _page("<div>" * depth + "deep words" + "</div>" * depth)})
    docs, outcome = _read(root)
    assert not outcome.errors, [str(e) for e in outcome.errors]
    assert "deep words" in _all_text(docs)


def test_long_flat_pages_are_not_taken_for_deep_ones(tmp_path):
    """Unclosed paragraphs and list items, self-closing SVG shapes and tags inside comments and scripts
    do not nest: a long page of them is read."""
    body = (
        "<p>para " * 1000
        + "<ul>"
        + "<li>item " * 1000
        + "</ul><svg>"
        + '<path d="M0 0"/>' * 1000
        + "</svg><!-- "
        + "<div>" * 1000
        + " --><script>var s = '"
        + "<div>" * 1000
        + "';</script><p>last words"
    )
    root = write_corpus(tmp_path / "content", {"flat.html": _page(body)})
    docs, outcome = _read(root)
    assert not outcome.errors, [str(e) for e in outcome.errors]
    assert "last words" in _all_text(docs)


def test_an_undefined_charset_with_bad_bytes_is_an_error_line(tmp_path):
    root = write_corpus(tmp_path / "content", {"good.md": GOOD})
    (root / "bad.html").write_bytes(b'<html><head><meta charset="undefined"></head><body><p>caf\xe9</p></body></html>')
    docs, outcome = _read(root)
    assert set(docs) == {"good"}
    assert "not valid UTF-8 and declares no charset that decodes it" in _errors(outcome)["bad.html"]


def _pdf(objects: list[bytes], trailer: bytes = b"") -> bytes:
    """A minimal PDF written by hand, byte offsets and all: pypdf cannot write the files tested here
    (AES needs the cryptography package, and it would not write a bomb)."""
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R %s >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, trailer, xref)
    return bytes(out)


def _stream(data: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length %d %s >>\nstream\n%s\nendstream" % (len(data), extra, data)


def _one_page_pdf(content: bytes, *, pages: int = 1, filters: bytes = b"", trailer: bytes = b"", more=()) -> bytes:
    return _pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join([b"3 0 R"] * pages), pages),
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> >>",
            _stream(content, filters),
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
            *more,
        ],
        trailer,
    )


TEXT = b"BT /F1 12 Tf 72 700 Td (Support groups meet on Tuesdays.) Tj ET"


def test_a_plain_handmade_pdf_is_read(tmp_path):
    """The helper's PDF is a real one: without the hostile part, its words are read."""
    root = write_corpus(tmp_path / "content", {"good.md": GOOD})
    (root / "plain.pdf").write_bytes(_one_page_pdf(TEXT))
    docs, outcome = _read(root)
    assert not outcome.errors, [str(e) for e in outcome.errors]
    assert "Support groups meet on Tuesdays." in _all_text(docs)


def test_an_aes_encrypted_pdf_is_an_error_line(tmp_path):
    aes = (
        b"<< /Filter /Standard /V 5 /R 6 /Length 256 /P -4 "
        b"/CF << /StdCF << /AuthEvent /DocOpen /CFM /AESV3 /Length 32 >> >> /StmF /StdCF /StrF /StdCF "
        b"/O <" + b"11" * 48 + b"> /U <" + b"22" * 48 + b"> /OE <" + b"33" * 32 + b"> /UE <" + b"44" * 32 + b"> "
        b"/Perms <" + b"55" * 16 + b"> >>"
    )
    root = write_corpus(tmp_path / "content", {"good.md": GOOD})
    ids = b"/ID [<" + b"ab" * 16 + b"> <" + b"ab" * 16 + b">]"
    (root / "locked.pdf").write_bytes(_one_page_pdf(TEXT, trailer=b"/Encrypt 6 0 R " + ids, more=[aes]))
    docs, outcome = _read(root)
    assert set(docs) == {"good"}
    assert "encrypted PDF, not indexed" in _errors(outcome)["locked.pdf"]


def test_a_flate_bomb_pdf_is_an_error_line(tmp_path):
    # 80 MB of spaces in an 80 kB stream: past pypdf's cap on a decompressed stream.
    bomb = zlib.compress(b" " * 80_000_000, 9)
    root = write_corpus(tmp_path / "content", {"good.md": GOOD})
    (root / "bomb.pdf").write_bytes(_one_page_pdf(bomb, filters=b"/Filter /FlateDecode"))
    docs, outcome = _read(root)
    assert set(docs) == {"good"}
    assert "decompresses to more than" in _errors(outcome)["bomb.pdf"]


def test_a_pdf_with_too_many_pages_is_an_error_line(tmp_path):
    root = write_corpus(tmp_path / "content", {"good.md": GOOD})
    (root / "long.pdf").write_bytes(_one_page_pdf(TEXT, pages=MAX_PDF_PAGES + 1))
    docs, outcome = _read(root)
    assert set(docs) == {"good"}
    assert f"{MAX_PDF_PAGES + 1:,} pages; Beacon reads at most {MAX_PDF_PAGES:,}" in _errors(outcome)["long.pdf"]


@pytest.mark.parametrize("suffix", [".md", ".txt", ".html", ".rst"])
def test_a_file_over_its_size_cap_is_an_error_line_naming_the_cap(tmp_path, suffix):
    cap = MAX_FILE_BYTES[suffix]
    root = write_corpus(tmp_path / "content", {"good.md": GOOD})
    (root / f"big{suffix}").write_bytes(b"# Big\n\n" + b"word " * (cap // 5 + 1))
    docs, outcome = _read(root)
    assert set(docs) == {"good"}
    message = _errors(outcome)[f"big{suffix}"]
    assert f"larger than the {cap // 1_000_000} MB Beacon reads for a {suffix} file" in message


def test_a_file_name_that_is_not_utf8_is_skipped_by_check_build_and_fingerprint_alike(tmp_path):
    from index.build import corpus_fingerprint

    root = write_corpus(tmp_path / "content", {"good.md": GOOD})
    odd = root / os.fsdecode(b"caf\xe9.md")
    odd.write_text(GOOD, encoding="utf-8")
    docs, outcome = _read(root)
    assert set(docs) == {"good"}
    assert outcome.skipped.refused == [("content/caf\\xe9.md", "file name is not valid UTF-8")]
    check_outcome = CorpusRead()
    assert not [p for p in check_corpus(root, site=LENIENT, outcome=check_outcome) if p.severity == "error"]
    assert check_outcome.skipped.refused == outcome.skipped.refused
    assert len(corpus_fingerprint(root, "model", 256, LENIENT)) == 64


def test_every_reader_failure_is_the_files_error_line(tmp_path):
    """Whatever a parser raises on a damaged file is that file's one error line, never a traceback."""
    root = write_corpus(tmp_path / "content", {"good.md": GOOD})
    (root / "bad.pdf").write_bytes(b"%PDF-1.7\n" + os.urandom(2000))
    docs, outcome = _read(root)
    assert set(docs) == {"good"}
    assert "bad.pdf" in _errors(outcome)
    docs, errors = read_corpus(root, LENIENT)
    assert [Path(e.path).name for e in errors] == ["bad.pdf"]


# --- L1: a page's own link must stay on the site ---


def test_a_canonical_link_or_permalink_on_another_host_is_ignored(tmp_path):
    canonical = '<html><head><link rel="canonical" href="{href}"></head><body><main><p>{words}</p></main></body></html>'
    root = write_corpus(
        tmp_path / "content",
        {
            "phish.html": canonical.format(href="https://evil.example/login", words="Phishing page words."),
            "own.html": canonical.format(href="https://DOCS.example.org/guide/own/", words="Own page words."),
            "perma.md": "---\ntitle: Perma\npermalink: https://evil.example/x\n---\nBody words.\n",
            "url.md": "---\ntitle: Url\nurl: http://evil.example/y\n---\nBody words.\n",
            "path.md": "---\ntitle: Path\npermalink: /about/us/\n---\nBody words.\n",
        },
    )
    docs, outcome = _read(root, Site(base_url="https://docs.example.org/"))
    assert not outcome.errors
    assert docs["phish"].url == "https://docs.example.org/phish.html"
    assert docs["own"].url == "https://DOCS.example.org/guide/own/"
    assert docs["perma"].url == "https://docs.example.org/perma.html"
    assert docs["url"].url == "https://docs.example.org/url.html"
    assert docs["path"].url == "https://docs.example.org/about/us/"
    # Without a base_url no page has a public address of its own: results link to /source/.
    docs, _ = _read(root, Site())
    assert {d.url for d in docs.values()} == {None}


# --- issue 23: reading reStructuredText leaves docutils as it found it ---


def test_read_rst_leaves_docutils_globals_unchanged(tmp_path, monkeypatch):
    from docutils.parsers.rst import directives, roles

    monkeypatch.setattr(roles, "DEFAULT_INTERPRETED_ROLE", "emphasis")  # as another docutils user may set it
    roles_before, directives_before = dict(roles._roles), dict(directives._directives)
    root = write_corpus(
        tmp_path / "content",
        {
            "page.rst": """\
            Guide
            =====

            See :ref:`the install page <install>` and :func:`os.walk` and `a default role`.

            .. default-role:: literal

            .. role:: custom

            Then :custom:`own role` and `literal default`.

            .. code-block:: python

               print("hi")
            """,
        },
    )
    docs, outcome = _read(root)
    assert not outcome.errors, [str(e) for e in outcome.errors]
    text = _all_text(docs)
    assert "the install page" in text and "os.walk" in text and "own role" in text and "a default role" in text
    assert roles.DEFAULT_INTERPRETED_ROLE == "emphasis"
    assert dict(roles._roles) == roles_before
    assert dict(directives._directives) == directives_before


def test_beacon_check_verbose_lists_refused_files_with_their_reason(tmp_path):
    from click.testing import CliRunner

    from service.cli import main

    root = hostile_links(tmp_path)
    (root / os.fsdecode(b"caf\xe9.md")).write_text(GOOD, encoding="utf-8")
    (root / "nul.html").unlink()
    result = CliRunner().invoke(main, ["check", "--corpus", str(root), "--no-model", "--verbose"])
    assert result.exit_code == 0, result.output
    assert "content/env.html: skipped: symlink to a file outside the content folder" in result.output
    assert "content/caf\\xe9.md: skipped: file name is not valid UTF-8" in result.output
    summary = CliRunner().invoke(main, ["check", "--corpus", str(root), "--no-model"]).output
    assert "refused 8 file(s) that are not safe to read" in summary


def test_markdown_images_from_other_hosts_or_schemes_are_never_shown(tmp_path):
    """Issue 21, L2: a javascript: or data: image, or another host's tracking pixel, would be shown on
    Beacon's /source/ pages; only the site's own (relative) images are, the others leave their words."""
    from ingest import load_corpus, load_site

    corpus = tmp_path / "site"
    corpus.mkdir()
    (corpus / "beacon.toml").write_text('name = "x"\n', encoding="utf-8")
    (corpus / "p.md").write_text(
        "# Page\n\nText ![js](javascript:alert(1)) ![data](data:image/png;base64,AAAA) "
        "![pixel](https://tracker.example/p.gif) ![proto](//tracker.example/p.gif) ![own](img/ok.png).\n",
        encoding="utf-8",
    )
    html = load_corpus(corpus, load_site(corpus))[0].sections[0].html
    assert html.count("<img") == 1 and 'src="img/ok.png"' in html
    assert "javascript:" not in html and "data:" not in html and "tracker.example" not in html
    assert all(word in html for word in ("js", "data", "pixel", "proto"))
