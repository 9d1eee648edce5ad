"""Each of the top k results is a different section; a long section's other parts come under it."""

from __future__ import annotations

import pytest

from tests.helpers import write_corpus

pytestmark = pytest.mark.model

KNEADING = " ".join(
    f"Knead the bread dough {how}, then test it: {test}."
    for how, test in [
        ("for ten minutes by hand", "it should spring back when you press it"),
        ("with the heel of your hand", "a thin window of dough should stretch without tearing"),
        ("on a lightly floured board", "it should feel smooth and a little tacky"),
        ("in a stand mixer with a dough hook", "the dough should pull away from the bowl"),
        ("until it is elastic", "sticky dough that tears needs more kneading"),
        ("less for a soft sandwich loaf", "over-kneaded dough feels tight and tears"),
        ("gently after adding butter", "the butter should disappear into the dough"),
        ("with wet hands for a very wet dough", "stretch and fold it every half hour instead"),
        ("after the autolyse rest", "flour and water rested together need less kneading"),
        ("by slapping and folding it", "the surface turns glossy when it is ready"),
        ("for rye bread only briefly", "rye has little gluten to develop"),
        ("and let it rest when it fights back", "relaxed gluten is easier to knead"),
    ]
)

SITE = {
    "beacon.toml": 'name = "Baking"\n',
    "bread.md": f"""\
        # Baking bread

        Bread needs flour, water, salt and yeast.

        ## Kneading

        ```text
        mix(flour, water, salt, yeast)
        ```

        {KNEADING}

        ```text
        knead(dough, minutes=10)
        ```

        ## Proofing

        Let the kneaded dough rise in a warm place until it doubles in size, about an hour.

        ## Shaping

        Shape the risen dough into a tight ball or a loaf before the second rise.
        """,
    "cakes.md": """\
        # Cakes

        ## Creaming butter

        Beat soft butter and sugar until pale and fluffy before adding eggs.

        ## Folding flour

        Fold the flour in gently so the batter keeps its air; do not knead or beat it.
        """,
}


@pytest.fixture(scope="module")
def site(tmp_path_factory, embedder):
    from index import build_index

    root = tmp_path_factory.mktemp("slots")
    corpus = write_corpus(root / "corpus", SITE)
    build_index(corpus, root / "index", embedder)
    return corpus, root / "index"


@pytest.fixture(scope="module")
def searcher(site, embedder):
    from index import open_searcher

    return open_searcher(site[1], embedder)


def test_a_long_section_is_split_into_several_passages(searcher):
    parts = [c for c in searcher.stored.chunks if c.doc_id == "bread" and c.anchor == "kneading"]
    assert len(parts) >= 2, [c.id for c in parts]


def test_top_results_are_different_sections_with_the_rest_as_sub_results(searcher):
    result = searcher.search("how long should I knead bread dough and how do I know it is ready", k=5)
    places = [(h.chunk.doc_id, h.chunk.anchor) for h in result.hits]
    assert len(places) == len(set(places)), places
    first = result.hits[0]
    assert (first.chunk.doc_id, first.chunk.anchor) == ("bread", "kneading")
    # The section's other parts matched too: they are under the first result, not in other slots.
    assert first.more and all((c.doc_id, c.anchor) == ("bread", "kneading") for c in first.more)
    shown = [first.chunk.id, *(c.id for c in first.more)]
    assert len(shown) == len(set(shown))
    # The places freed by the sub-results go to other sections.
    assert len(result.hits) >= 3


def test_api_carries_sub_results_with_their_links(searcher):
    from service.schemas import SearchOut

    result = searcher.search("how long should I knead bread dough and how do I know it is ready", k=5)
    out = SearchOut.of(result, lambda doc, anchor, target="": f"/source/{doc}#{anchor}", 1.0)
    first = out.results[0]
    assert first.more and {m.url for m in first.more} == {"/source/bread#kneading"}
    assert {m.id for m in first.more}.isdisjoint({r.id for r in out.results})


def test_page_shows_sub_results_under_their_section_without_javascript(site, embedder):
    from fastapi.testclient import TestClient

    from service.app import create_app
    from tests.helpers import LOCAL, make_settings

    corpus, index_dir = site
    with TestClient(create_app(make_settings(index_dir, corpus), embedder=embedder), base_url=LOCAL) as client:
        page = client.get("/", params={"q": "how long should I knead bread dough and how do I know it is ready"})
    assert page.status_code == 200
    more = page.text.split('<details class="more">', 1)
    assert len(more) == 2, "no sub-results shown"
    assert "More from this section" in more[1].split("</details>", 1)[0]
    assert "knead" in more[1].split("</details>", 1)[0].lower()
    # Code in any passage, sub-results included, is a code block, never its raw fences.
    assert "```" not in page.text and "<pre><code" in page.text
