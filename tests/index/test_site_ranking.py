"""A site's fusion weights: set in its site file, used by the searcher of every version built from
it, and overridden by BEACON_DENSE_WEIGHT / BEACON_LEXICAL_WEIGHT as every other setting is."""

from __future__ import annotations

from pathlib import Path

import pytest

from index import SearchSettings, build_index, open_searcher
from index.fusion import DENSE_WEIGHT, LEXICAL_WEIGHT
from ingest import load_site
from service.settings import Settings
from tests.helpers import write_corpus

PAGES = {
    "roses.md": "# Roses\n\nPrune roses in late winter, just above an outward-facing bud.\n",
    "hedges.md": "# Hedges\n\nCut back hedge bushes after the birds have nested, and take the cut branches to the tip.\n",
    "compost.md": "# Compost\n\nTurn the compost heap every month so that it rots evenly.\n",
}
# By meaning the roses page answers; by exact words ("cut back") the hedges page does.
QUESTION = "when to cut back roses"


def _index(tmp_path, embedder, site_toml: str):
    corpus = write_corpus(tmp_path / "site", {**PAGES, "beacon.toml": site_toml})
    build_index(corpus, tmp_path / "index", embedder, site=load_site(corpus))
    return tmp_path / "index"


@pytest.fixture
def lexical_off(tmp_path, embedder, monkeypatch):
    """A site whose file turns exact-word ranking off (as examples/python-docs.toml does)."""
    monkeypatch.delenv("BEACON_DENSE_WEIGHT", raising=False)
    monkeypatch.delenv("BEACON_LEXICAL_WEIGHT", raising=False)
    return _index(tmp_path, embedder, 'name = "Garden"\ndense_weight = 2\nlexical_weight = 0\n')


def _first(searcher, mode=None) -> str:
    return searcher.search(QUESTION, 3, mode=mode).hits[0].chunk.doc_id


def test_site_files_weights_reach_the_searcher(lexical_off, embedder):
    searcher = open_searcher(lexical_off, embedder, Settings().search_settings())
    assert (searcher.settings.dense_weight, searcher.settings.lexical_weight) == (2.0, 0.0)
    # What a reader sees: with no weight on exact words, hybrid ranks as meaning alone does.
    assert _first(searcher) == _first(searcher, "dense") == "roses"
    assert _first(searcher, "lexical") == "hedges"


def test_environment_and_flags_override_the_site_files_weights(lexical_off, embedder, monkeypatch):
    monkeypatch.setenv("BEACON_LEXICAL_WEIGHT", "1.5")
    searcher = open_searcher(lexical_off, embedder, Settings().search_settings())
    assert (searcher.settings.dense_weight, searcher.settings.lexical_weight) == (2.0, 1.5)
    # A flag (given to Settings directly, as the CLI does) wins over both.
    searcher = open_searcher(lexical_off, embedder, Settings(dense_weight=1.0).search_settings())
    assert (searcher.settings.dense_weight, searcher.settings.lexical_weight) == (1.0, 1.5)
    assert _first(searcher) == "hedges"  # exact words count again


def test_a_site_without_weights_keeps_beacons_defaults(tmp_path, embedder):
    searcher = open_searcher(_index(tmp_path, embedder, 'name = "Garden"\n'), embedder, SearchSettings())
    assert (searcher.settings.dense_weight, searcher.settings.lexical_weight) == (DENSE_WEIGHT, LEXICAL_WEIGHT)
    # The documentation sites' numbers rest on these (docs/quality.md, "A default fitted on four sites").
    assert (DENSE_WEIGHT, LEXICAL_WEIGHT, searcher.settings.fusion) == (1.0, 0.5, "scores")
    # Meaning outweighs the two shared words here (at lexical 1.0 the hedges page came first).
    assert _first(searcher) == "roses"


def test_the_default_corpus_keeps_the_weights_its_sets_were_measured_with():
    # The thyroid guide's question sets (bench/eval) were measured with exact words weighed as much as
    # meaning; its site file says so, whatever Beacon's default for other sites.
    site = load_site(Path(__file__).resolve().parents[2] / "corpus")
    assert (site.dense_weight, site.lexical_weight) == (None, 1.0)
