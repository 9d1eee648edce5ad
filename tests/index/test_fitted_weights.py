"""A site whose file says `lexical_weight = "fit"` gets a weight chosen by the build from its own pages
(index/fitting.py), stored in the version's site.json and used by the searcher; BEACON_LEXICAL_WEIGHT
still wins, and a site that says nothing keeps Beacon's default (the fit is opt-in: docs/quality.md)."""

from __future__ import annotations

import numpy as np
import orjson
import pytest

from index import build_index, open_searcher, publish
from index.fitting import LEXICAL_GRID, MIN_QUESTIONS, PseudoQuestion, choose_lexical_weight
from ingest import load_site
from service.settings import Settings
from tests.helpers import write_corpus

TOPICS = {
    "roses": ("prune", "aphids", "mildew", "climbing roses on a trellis"),
    "tomatoes": ("pinch out side shoots", "blight", "watering in a heatwave", "ripening green fruit"),
    "lawns": ("mowing height", "moss", "reseeding bare patches", "feeding in autumn"),
    "compost": ("turning the heap", "what not to add", "worms", "leaf mould"),
    "hedges": ("nesting birds", "box blight", "laying a hedge", "planting bare-root whips"),
    "ponds": ("blanket weed", "frogspawn", "pumps in winter", "marginal plants"),
    "bees": ("wildflower strips", "bee hotels", "swarming", "plants for late summer"),
    "soil": ("clay soil", "testing acidity", "mulching", "digging versus no-dig"),
    "herbs": ("basil indoors", "mint in pots", "drying thyme", "parsley from seed"),
    "fruit trees": ("winter pruning", "codling moth", "thinning apples", "grafting"),
}


def _pages() -> dict[str, str]:
    """Ten pages of four sections, each section two sentences long: about forty passages, each
    with a sentence after its first (what a pseudo-question is made of)."""
    pages = {}
    for page, sections in TOPICS.items():
        body = [f"# {page.title()}\n"]
        for section in sections:
            body.append(
                f"## {section.capitalize()}\n\nThis part of the {page} guide is about {section}. "
                f"Gardeners who look after {page} often ask how {section} works through the seasons, "
                f"and the answer depends on the weather and on the {page} themselves.\n"
            )
        pages[f"{page.replace(' ', '-')}.md"] = "\n".join(body)
    return pages


def _site_json(index_dir) -> dict:
    return orjson.loads((publish.current_dir(index_dir) / "site.json").read_bytes())


@pytest.fixture(scope="module")
def garden(tmp_path_factory, embedder):
    corpus = write_corpus(
        tmp_path_factory.mktemp("garden"), {**_pages(), "beacon.toml": 'name = "Garden"\nlexical_weight = "fit"\n'}
    )
    index_dir = corpus.parent / "garden-index"
    build_index(corpus, index_dir, embedder, site=load_site(corpus))
    return corpus, index_dir


def test_a_site_asking_for_a_fitted_weight_gets_one_chosen_by_the_build_and_used(garden, embedder, monkeypatch):
    monkeypatch.delenv("BEACON_LEXICAL_WEIGHT", raising=False)
    _, index_dir = garden
    search = _site_json(index_dir)["search"]
    assert search["fitted"]["questions"] >= MIN_QUESTIONS
    assert search["lexical_weight"] in LEXICAL_GRID
    assert set(search["fitted"]["mrr"]) == {str(w) for w in LEXICAL_GRID}
    searcher = open_searcher(index_dir, embedder, Settings().search_settings())
    assert searcher.settings.lexical_weight == search["lexical_weight"]


def test_the_environment_wins_over_the_builds_choice(garden, embedder, monkeypatch):
    _, index_dir = garden
    chosen = _site_json(index_dir)["search"]["lexical_weight"]
    other = next(w for w in LEXICAL_GRID if w != chosen)
    monkeypatch.setenv("BEACON_LEXICAL_WEIGHT", str(other))
    assert open_searcher(index_dir, embedder, Settings().search_settings()).settings.lexical_weight == other


def test_a_weight_in_the_site_file_is_kept_and_nothing_is_fitted(tmp_path, embedder):
    corpus = write_corpus(tmp_path / "site", {**_pages(), "beacon.toml": 'name = "Garden"\nlexical_weight = 0.7\n'})
    build_index(corpus, tmp_path / "index", embedder, site=load_site(corpus))
    assert _site_json(tmp_path / "index")["search"] == {"lexical_weight": 0.7}


def _choose(dense_finds: bool, lexical_finds: bool, n: int = 60, default: float = 1.5):
    """Synthetic retrievers: question i is answered by page i % 20 (one row each); a retriever that
    finds it ranks it first, above 60 pages of its own; one that does not returns only its own 60."""
    questions = [PseudoQuestion(f"q{i}", f"page{i % 20}", frozenset({199})) for i in range(n)]
    doc_ids = [f"page{r}" if r < 20 else f"other{r}" for r in range(200)]

    def ranking(target: int, finds: bool, own: range) -> list[int]:
        return [target, *own] if finds else list(own)

    def dense_search(vectors, k):
        return [
            [(r, 1 - j / 100) for j, r in enumerate(ranking(i % 20, dense_finds, range(20, 80)))][:k] for i in range(n)
        ]

    def lexical_scores(text):
        scores = np.zeros(200, dtype=np.float32)
        for j, r in enumerate(ranking(int(text[1:]) % 20, lexical_finds, range(80, 140))):
            scores[r] = 50 - j * 0.5
        return scores

    return choose_lexical_weight(questions, np.zeros((n, 4)), dense_search, lexical_scores, doc_ids, default)


def test_the_weight_follows_the_retriever_that_finds_the_page():
    # Exact words mislead: the weight drops from the default to the nearest that ranks as well as 0.
    assert _choose(dense_finds=True, lexical_finds=False).lexical_weight == 1.0
    # Meaning misleads: the weight rises until exact words outweigh it.
    assert _choose(dense_finds=False, lexical_finds=True, default=0.5).lexical_weight == 1.5


def test_when_the_questions_cannot_tell_the_default_is_kept():
    assert _choose(dense_finds=True, lexical_finds=True).lexical_weight == 1.5
    assert _choose(dense_finds=False, lexical_finds=False).lexical_weight == 1.5
    assert _choose(dense_finds=True, lexical_finds=False, n=MIN_QUESTIONS - 1).lexical_weight == 1.5


def test_a_site_that_says_nothing_keeps_the_default_and_nothing_is_fitted(tmp_path, embedder):
    from index.fusion import LEXICAL_WEIGHT

    corpus = write_corpus(tmp_path / "site", {**_pages(), "beacon.toml": 'name = "Garden"\n'})
    build_index(corpus, tmp_path / "index", embedder, site=load_site(corpus))
    assert "fitted" not in _site_json(tmp_path / "index")["search"]
    assert open_searcher(tmp_path / "index", embedder).settings.lexical_weight == LEXICAL_WEIGHT
