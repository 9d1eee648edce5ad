"""PDF manuals read as manuals: sections from the outline, linked to their pages; running headers,
page numbers, contents and index pages left out; ligatures and hyphenated words made whole. On a
manual written here with fpdf2 and on real ones from Debian packages (r-doc-pdf, libtasn1-doc,
shared-mime-info). Every passage is checked."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from ingest import Site, read_corpus
from ingest.chunking import chunk_documents
from service.site import passage_link

DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")  # fonts-dejavu-core: it has the ligature glyphs
R_FAQ = Path("/usr/share/R/doc/manual/R-FAQ.pdf")
DEBIAN_MANUALS = [
    R_FAQ,
    Path("/usr/share/doc/libtasn1-doc/libtasn1.pdf"),
    Path("/usr/share/doc/shared-mime-info/shared-mime-info-spec.pdf"),
]
LIGATURES = re.compile("[\ufb00-\ufb06]")
DOT_LEADERS = re.compile(r"(?:\. ?){5,}")
# A TeX manual's running header: "Chapter 4: Function reference 20".
RUNNING_HEADER = re.compile(r"Chapter \d+: [^.\n]{1,60}? \d{1,3}\b")


def _passages(root: Path, site: Site):
    docs, errors = read_corpus(root, site)
    assert not errors, [str(e) for e in errors]
    return docs, chunk_documents(docs, 256, lambda text: len(text.split()))


def _write_manual(path: Path) -> None:
    """A small manual as a word processor writes one: a title page, a contents page, chapters with a
    running header that carries the page number, an outline, and an index."""
    fpdf = pytest.importorskip("fpdf")
    if not DEJAVU.is_file():
        pytest.skip("fonts-dejavu-core is not installed (run `make system`)")

    class Manual(fpdf.FPDF):
        chapter = ""

        def header(self):
            if self.chapter:
                self.set_font("DejaVu", size=9)
                self.cell(0, 8, f"{self.chapter} {self.page_no() - 2}", new_x="LMARGIN", new_y="NEXT")

    pdf = Manual()
    pdf.add_font("DejaVu", fname=str(DEJAVU))
    pdf.add_page()
    pdf.set_font("DejaVu", size=28)
    pdf.cell(0, 20, "Widgets Manual", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", size=11)
    pdf.cell(0, 8, "Version 1.0, for widget owners", new_x="LMARGIN", new_y="NEXT")

    def lines(*texts):
        for text in texts:
            pdf.cell(0, 7, text, new_x="LMARGIN", new_y="NEXT")

    pdf.add_page()
    lines("Contents", "1 Installing . . . . . . . . . . . . . . . . 1", "1.1 On Debian . . . . . . . . . . . . . . 1")
    lines("2 Using . . . . . . . . . . . . . . . . . . . 3", "Index . . . . . . . . . . . . . . . . . . . . 4")

    pdf.chapter = "Chapter 1: Installing"
    pdf.add_page()
    pdf.start_section("1 Installing")
    lines("1 Installing", "Widgets are installed from the packages of your system.")
    pdf.start_section("1.1 On Debian", level=1)
    lines("1.1 On Debian", "Install the widgets pack-", "ages with apt, then edit the conﬁguration ﬁle.")
    pdf.add_page()
    lines("The ﬁrst start writes a default conﬁguration to your home folder.")
    pdf.chapter = "Chapter 2: Using"
    pdf.add_page()
    pdf.start_section("2 Using")
    lines("2 Using", "Turn the lever to spin a sprocket.", "Each turn of the lever is one full sprocket turn.")
    lines("The run-time checks are on by default.", "Turn them off in the run-", "time settings.")
    pdf.chapter = ""
    pdf.add_page()
    pdf.start_section("Index")
    lines(
        "Index", "apt . . . . . . . . . . . . . . . 1", "configuration . . . . . . . . . . 1", "lever . . . . . . . . 3"
    )
    pdf.output(str(path))


@pytest.fixture
def manual(tmp_path) -> Path:
    root = tmp_path / "manuals"
    root.mkdir()
    _write_manual(root / "widgets.pdf")
    return root


def test_outline_entries_become_sections_at_their_printed_headings(manual):
    docs, chunks = _passages(manual, Site(base_url="https://example.org/manuals/"))
    (doc,) = docs
    assert doc.title == "Widgets Manual"  # the title page's biggest line: the file has no title metadata
    assert [s.heading_path for s in doc.sections] == [
        (),
        ("1 Installing",),
        ("1 Installing", "1.1 On Debian"),
        ("2 Using",),
    ]
    by_path = {s.heading_path: s for s in doc.sections}
    assert by_path[("1 Installing",)].text == "Widgets are installed from the packages of your system."
    assert by_path[("2 Using",)].text.startswith("Turn the lever")
    # Each section links to the page its heading is on; a passage further on links to its own page.
    assert by_path[("1 Installing", "1.1 On Debian")].targets == ((0, "page=3"), (1, "page=4"))
    assert by_path[("2 Using",)].targets == ((0, "page=5"),)


def test_running_headers_contents_and_index_pages_are_left_out(manual):
    _, chunks = _passages(manual, Site())
    text = "\n".join(c.text for c in chunks)
    assert "Chapter 1" not in text and "Chapter 2" not in text
    assert not DOT_LEADERS.search(text) and "Contents" not in text
    assert "Index" not in {c.section for c in chunks}


def test_ligatures_are_letters_and_hyphenated_words_are_whole(manual):
    _, chunks = _passages(manual, Site())
    text = "\n".join(c.text for c in chunks)
    assert not LIGATURES.search(text)
    assert "edit the configuration file" in text and "The first start" in text
    assert "Install the widgets packages with apt" in text
    assert "Turn them off in the run-time settings." in text  # the manual writes "run-time" elsewhere


def test_passage_links_to_the_pdf_page_on_the_site_and_to_its_section_on_source(manual):
    docs, chunks = _passages(manual, Site(base_url="https://example.org/manuals/"))
    documents = {d.doc_id: {"url": d.url} for d in docs}
    debian = next(c for c in chunks if c.section == "1 Installing › 1.1 On Debian")
    assert passage_link(documents, debian.doc_id, debian.anchor, debian.target) == (
        "https://example.org/manuals/widgets.pdf#page=3"
    )
    docs, chunks = _passages(manual, Site())
    documents = {d.doc_id: {"url": d.url} for d in docs}
    debian = next(c for c in chunks if c.section == "1 Installing › 1.1 On Debian")
    assert passage_link(documents, debian.doc_id, debian.anchor, debian.target) == "/source/widgets#11-on-debian"


@pytest.mark.skipif(
    not all(p.is_file() for p in DEBIAN_MANUALS),
    reason="r-doc-pdf, libtasn1-doc or shared-mime-info is not installed (run `make system`)",
)
def test_debian_manuals_every_passage_is_clean_text_under_the_manuals_headings(tmp_path):
    root = tmp_path / "manuals"
    root.mkdir()
    for pdf in DEBIAN_MANUALS:
        shutil.copy(pdf, root / pdf.name)
    docs, chunks = _passages(root, Site(base_url="https://example.org/manuals/"))
    assert {d.title for d in docs} == {"R FAQ", "Libtasn1", "Shared MIME-info Database"}
    for doc in docs:
        paths = [s.heading_path for s in doc.sections]
        assert not any(p and p[0].startswith("Page ") for p in paths), paths
        assert len(paths) >= 15, (doc.doc_id, paths)
    for chunk in chunks:
        where = f"{chunk.doc_id}#{chunk.anchor}: {chunk.text[:200]!r}"
        assert not LIGATURES.search(chunk.text), where
        assert not RUNNING_HEADER.search(chunk.text), where
        assert not DOT_LEADERS.search(chunk.text), where
        assert "Table of Contents" not in chunk.text, where
        assert re.fullmatch(r"page=\d+", chunk.target), where
    mime = "\n".join(c.text for c in chunks if c.doc_id == "shared-mime-info-spec")
    assert mime.count("Shared MIME-info Database") <= 2  # its prose names itself; the header was on 17 pages
    what_is_r = next(c for c in chunks if c.doc_id == "R-FAQ" and c.section == "2 R Basics › What is R?")
    assert what_is_r.text.startswith("R is a system for statistical computation and graphics.")
    assert what_is_r.target == "page=7"
    text = "\n".join(c.text for c in chunks if c.doc_id == "R-FAQ")
    assert "“R for Windows FAQ”" in text and "Win- dows" not in text
