"""A site indexed from its own pages: results link to the site's page and section, the page and the
CLI show that link, and the words on the page are the site's own (neutral without a site file)."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from index import build_index
from ingest import load_site
from service.app import create_app
from service.cli import main
from tests.helpers import LOCAL, make_settings, write_corpus

PAGE = """\
<!doctype html><html lang="en"><head><title>{title} · Garden Club</title></head>
<body><nav>Menu Home About</nav><main>
<h1>{title}</h1><p>{intro}</p>
<h2 id="{anchor}">{heading}</h2><p>{text}</p>
</main><footer>© Garden Club</footer></body></html>
"""

SITE = {
    "roses/pruning.html": PAGE.format(
        title="Pruning roses",
        intro="Roses flower better when pruned every year.",
        anchor="when-to-prune",
        heading="When to prune",
        text="Prune roses in late winter, just before the buds break, with clean sharp secateurs.",
    ),
    "vegetables/tomatoes.html": PAGE.format(
        title="Growing tomatoes",
        intro="Tomatoes need sun and warmth.",
        anchor="watering",
        heading="Watering tomatoes",
        text="Water tomato plants deeply twice a week at the base, never on the leaves.",
    ),
    # A reference page in the shape of Sphinx's API pages: entries with ids of their own inside one section.
    "reference/tools.html": """\
<!doctype html><html lang="en"><head><title>Tools · Garden Club</title></head><body><main>
<h1>Tools</h1>
<section id="cutting-tools"><h2>Cutting tools</h2>
<dl><dt id="tools.secateurs">secateurs</dt><dd><p>Hand pruners for stems thinner than a pencil.</p></dd></dl>
<dl><dt id="tools.loppers">loppers</dt><dd><p>Long-handled loppers cut branches thicker than a thumb.</p></dd></dl>
</section>
<section id="digging-tools"><h2>Digging tools</h2>
<p>Spades and forks are lent from the shed by the gate.</p>
<dl><dt id="tools.dibber">dibber</dt><dd><p>A pointed stick that makes holes for planting bulbs.</p></dd></dl>
</section></main></body></html>
""",
}
SITE_TOML = """\
name = "Garden Club answers"
base_url = "https://garden.example.org/"
pretty_urls = true

[copy]
tagline = "What our members know about gardens"
intro = "Ask the garden club anything about roses and vegetables."
no_answer = "The garden club's pages do not answer that."
disclaimer = "Written by volunteers."
"""


@pytest.fixture(scope="module")
def garden(tmp_path_factory, embedder):
    root = tmp_path_factory.mktemp("garden")
    corpus = write_corpus(root / "site", SITE)
    (root / "settings.toml").write_text(SITE_TOML, encoding="utf-8")
    site = load_site(corpus, root / "settings.toml")
    build_index(corpus, root / "index", embedder, site=site)
    return root


def _client(index_dir, corpus_dir, embedder):
    return TestClient(create_app(make_settings(index_dir, corpus_dir), embedder=embedder), base_url=LOCAL)


def test_results_link_to_the_sites_own_page_and_section(garden, embedder):
    with _client(garden / "index", garden / "site", embedder) as client:
        question = "which month of the year is best for pruning roses"
        body = client.get("/api/search", params={"q": question}).json()
        urls = {r["section"]: r["url"] for r in body["results"]}
        assert urls["When to prune"] == "https://garden.example.org/roses/pruning#when-to-prune", urls
        assert body["results"][0]["url"].startswith("https://garden.example.org/roses/pruning#")
        page = client.get("/", params={"q": question}).text
        assert 'href="https://garden.example.org/roses/pruning#when-to-prune"' in page
        assert "/source/roses/pruning" not in page


def test_a_passage_links_to_the_entry_it_starts_under_and_an_answer_to_its_own_entry(garden, embedder):
    """A passage links to the finest id on the page it starts under (an API entry's <dt id>, as on
    Sphinx's reference pages), and to its section when it starts before any entry."""
    with _client(garden / "index", garden / "site", embedder) as client:
        pruners = client.get("/api/search", params={"q": "hand pruners for thin stems"}).json()
        assert pruners["results"][0]["url"] == "https://garden.example.org/reference/tools#tools.secateurs"
        page = client.get("/", params={"q": "hand pruners for thin stems"}).text
        assert 'href="https://garden.example.org/reference/tools#tools.secateurs"' in page
        # One passage holds both entries: the answer links to the entry its sentence comes from.
        loppers = client.get("/api/search", params={"q": "which tool cuts branches thicker than a thumb"}).json()
        assert "loppers cut branches" in loppers["answer"]["text"], loppers["answer"]
        answered = loppers["results"][loppers["answer"]["result"]]
        assert answered["id"] == "reference/tools#cutting-tools", answered
        assert answered["url"] == "https://garden.example.org/reference/tools#tools.loppers"
        bulbs = client.get("/api/search", params={"q": "where can I borrow a spade"}).json()
        assert bulbs["results"][0]["url"] == "https://garden.example.org/reference/tools#digging-tools"
    result = CliRunner().invoke(main, ["search", "hand pruners for thin stems", "--index", str(garden / "index")])
    assert "from: https://garden.example.org/reference/tools#tools.secateurs" in result.output


def test_page_shows_the_sites_own_words(garden, embedder):
    with _client(garden / "index", garden / "site", embedder) as client:
        page = client.get("/").text
        assert "<title>Garden Club answers</title>" in page
        assert "What our members know about gardens" in page and "Ask the garden club anything" in page
        assert "Written by volunteers." in page
        off_topic = client.get("/", params={"q": "how do I file my tax return"}).text
        assert "The garden club&#39;s pages do not answer that." in off_topic
        assert 'href="https://garden.example.org/vegetables/tomatoes"' in off_topic  # suggested pages link out too
        assert "thyroid" not in (page + off_topic).lower()


def test_cli_search_prints_the_public_link(garden):
    result = CliRunner().invoke(main, ["search", "watering tomato plants", "--index", str(garden / "index"), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["results"][0]["url"] == "https://garden.example.org/vegetables/tomatoes#watering"
    plain = CliRunner().invoke(main, ["search", "watering tomato plants", "--index", str(garden / "index")])
    assert "from: https://garden.example.org/vegetables/tomatoes#watering" in plain.output


def test_a_corpus_without_site_file_gets_neutral_words_and_source_links(tmp_path, embedder):
    hive = '<html><body><main><h1>Hives</h1><h2 id="kinds">Kinds</h2><dl><dt id="hive.top-bar">top-bar hive</dt>'
    hive += "<dd>A long box whose bars carry the comb, lifted one at a time.</dd></dl></main></body></html>"
    corpus = write_corpus(
        tmp_path / "notes",
        {"bees.md": "# Keeping bees\n\nBees need a dry hive and water nearby.\n", "hives.html": hive},
    )
    build_index(corpus, tmp_path / "index", embedder, site=load_site(corpus))
    with _client(tmp_path / "index", corpus, embedder) as client:
        page = client.get("/").text
        assert "<title>Beacon</title>" in page
        assert re.search(r'class="intro">Ask a question in your own words', page)
        assert "thyroid" not in page.lower() and "medical" not in page.lower()
        assert 'class="notice"' not in page  # no disclaimer unless the site gives one
        hit = client.get("/api/search", params={"q": "what do bees need"}).json()["results"][0]
        assert hit["url"].endswith("/source/bees#keeping-bees")
        # No public page: the passage is shown on /source/, which has the section's anchor, not the entry's.
        hit = client.get("/api/search", params={"q": "a hive whose bars carry the comb"}).json()["results"][0]
        assert hit["url"].endswith("/source/hives#kinds"), hit["url"]


def test_default_corpus_keeps_its_words(default_index, embedder):
    with _client(default_index, make_settings(default_index).corpus_dir, embedder) as client:
        page = client.get("/").text
        assert "Trusted places to find support with thyroid cancer" in page
        assert "not medical advice" in page and "I-131" in page  # the placeholder


def test_one_bad_page_stops_the_build_or_is_left_out_as_the_site_says(tmp_path, embedder):
    corpus = write_corpus(
        tmp_path / "site",
        {
            "good.html": "<html><body><h1>Bees</h1><p>Bees need a dry hive.</p></body></html>",
            "logo.svg": "<svg/>",
            "notes.gz": "x",
        },
    )
    (corpus / "bad.html").write_bytes(b"<html><body><p>caf\xe9</p></body></html>")
    index = tmp_path / "index"
    stopped = CliRunner().invoke(main, ["build", "--corpus", str(corpus), "--index", str(index), "-q"])
    assert stopped.exit_code == 1 and "site/bad.html:1: page is not valid UTF-8" in stopped.output, stopped.output
    assert not (index / "CURRENT").exists()  # a failed build publishes nothing
    (corpus / "beacon.toml").write_text('on_error = "skip"\n', encoding="utf-8")
    skipped = CliRunner().invoke(main, ["build", "--corpus", str(corpus), "--index", str(index), "-q"])
    assert skipped.exit_code == 0, skipped.output
    assert "Error (file left out): site/bad.html:1: page is not valid UTF-8" in skipped.output
    assert "skipped 2 file(s) Beacon does not read: .svg 1, .gz 1" in skipped.output
    assert "Published" in skipped.output and "1 documents" in skipped.output
