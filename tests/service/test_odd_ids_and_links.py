"""Odd document ids are encoded in every link; non-http(s) links are flagged by `beacon check` and left
out of pages consistently; a build killed during the cache save leaves no temp file behind for good."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import urlsplit

import pytest
from starlette.testclient import TestClient

from tests.helpers import TINY, make_settings, write_corpus

ODD = 'odd"name<x>#frag?q=1 &amp'
LINKS_DOC = """\
    ---
    title: Contact page
    ---
    Write to [the nurse](mailto:nurse@example.org) or call [the desk](tel:+123).
    Never [click me](javascript:alert(1)), [data](data:text/html,hi), [file](file:///etc/passwd)
    or [vb](vbscript:msgbox) links. The [website](https://example.org/contact) is fine.
    """


@pytest.fixture(scope="module")
def odd_index(tmp_path_factory, embedder):
    from index import build_index

    root = tmp_path_factory.mktemp("odd")
    corpus = write_corpus(
        root / "corpus",
        {
            **TINY,
            f"{ODD}.md": """\
        ---
        title: Odd name support group
        ---
        A zebrafish support group meets every Tuesday in the odd-name hall.
        """,
            "contact.md": LINKS_DOC,
        },
    )
    build_index(corpus, root / "index", embedder)
    return corpus, root / "index"


@pytest.fixture(scope="module")
def client(odd_index, embedder):
    from service.app import create_app

    corpus, index = odd_index
    with TestClient(create_app(make_settings(index, corpus), embedder=embedder), base_url="http://127.0.0.1") as c:
        yield c


def test_odd_document_ids_are_encoded_in_every_link(client):
    page = client.get("/", params={"q": "zebrafish support group Tuesday"})
    hrefs = [unescape(h) for h in re.findall(r'href="([^"]*/source/[^"]*)"', page.text)]
    odd = [h for h in hrefs if "odd" in h]
    assert odd, hrefs
    api = client.get("/api/search", params={"q": "zebrafish support group Tuesday"}).json()
    odd += [r["url"] for r in api["results"] if r["id"].startswith("odd")]
    for href in odd:
        parts = urlsplit(href)
        assert not parts.query, href  # '?' did not end the path
        reply = client.get(parts.path)
        assert reply.status_code == 200 and "Odd name support group" in reply.text, href
    # The suggestions shown when nothing answers use the same encoding.
    none = client.get("/", params={"q": "quantum chromodynamics lattice"})
    assert "/source/odd%22name%3Cx%3E%23frag%3Fq%3D1%20%26amp" in none.text


def test_non_http_links_are_left_out_of_pages_with_their_words_kept(client):
    page = client.get("/source/contact").text
    for scheme in ("mailto:", "tel:", "javascript:", "data:", "file:", "vbscript:"):
        assert scheme not in page, scheme
    for words in ("the nurse", "the desk", "click me", "vb"):
        assert words in page
    assert "](" not in page  # no raw Markdown shown
    assert 'href="https://example.org/contact"' in page


def test_check_flags_every_non_http_link(odd_index):
    from ingest.check import check_corpus

    corpus, _ = odd_index
    problems = [str(p) for p in check_corpus(corpus) if "contact.md" in p.path]
    for href in (
        "mailto:nurse@example.org",
        "tel:+123",
        "javascript:alert(1)",
        "data:text/html,hi",
        "file:///etc/passwd",
        "vbscript:msgbox",
    ):
        assert any(href in p and "error" in p for p in problems), (href, problems)
    assert any("dangerous javascript: scheme" in p for p in problems)
    assert not any(ODD in str(p) for p in check_corpus(corpus)), "odd names are encoded, not refused"


def test_a_build_cache_damaged_by_a_crash_costs_a_re_embed_not_a_failed_build(odd_index, embedder, tmp_path):
    from index import build_index

    corpus, _ = odd_index
    index = tmp_path / "index"
    build_index(corpus, index, embedder)
    damaged = sorted((index / "cache").glob("*.sqlite"))
    assert [p.name.split("-")[0] for p in damaged] == ["chunks", "embeddings"]
    for p in damaged:
        p.write_bytes(b"half a page of a database" * 200)
    report = build_index(corpus, index, embedder, force=True)
    assert report.version is not None and report.embedded == report.chunks  # embedded again, published
    again = build_index(corpus, index, embedder, force=True)
    assert again.embedded == 0  # and the cache works again
