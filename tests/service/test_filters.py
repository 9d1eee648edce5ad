"""Filters by tag and top-level folder: in the search (before the top-k cut), the API, and the page's chips
(on the small test guide, tests/fixtures/guide)."""

from __future__ import annotations

import re

import pytest

from index.search import filter_labels
from ingest import Chunk

QUESTION = "where can I talk to people about H-alpha"


def test_filter_labels_are_the_tags_and_the_top_level_folder():
    chunk = Chunk(
        id="online/x#a",
        doc_id="online/x",
        title="X",
        section="X",
        anchor="a",
        text="t",
        links=(),
        tags=("App", "i-131"),
    )
    assert filter_labels(chunk) == {"app", "i-131", "online"}
    assert (
        filter_labels(Chunk(id="o#a", doc_id="overview", title="O", section="O", anchor="a", text="t", links=()))
        == frozenset()
    )


def test_a_filter_restricts_the_candidates_and_still_fills_k(guide_app_client):
    body = guide_app_client.get("/api/search", params={"q": QUESTION, "tag": "international", "k": 5}).json()
    assert len(body["results"]) == 5, "filtering happens before the top-k cut, not by hiding results after"
    assert all(r["id"].startswith("international/") for r in body["results"])
    assert body["facets"]["international"] >= 5


def test_several_tags_mean_any_of_them(guide_app_client):
    body = guide_app_client.get(
        "/api/search", params=[("q", QUESTION), ("tag", "offline"), ("tag", "tips"), ("k", 10)]
    ).json()
    folders = {r["id"].split("#")[0].split("/")[0] for r in body["results"]}
    assert folders <= {"offline", "tips", "overview"} and {"offline", "tips"} <= folders


def test_facets_count_the_unfiltered_candidates(guide_app_client):
    plain = guide_app_client.get("/api/search", params={"q": QUESTION}).json()
    filtered = guide_app_client.get("/api/search", params={"q": QUESTION, "tag": "tips"}).json()
    assert plain["facets"] == filtered["facets"]
    assert {"online", "offline", "international", "tips"} <= set(plain["facets"])


def test_unknown_tag_is_a_422_pointing_to_the_known_ones(guide_app_client):
    r = guide_app_client.get("/api/search", params={"q": QUESTION, "tag": "nonsense"})
    assert r.status_code == 422
    assert "unknown tag 'nonsense'" in r.json()["detail"] and "facets" in r.json()["hint"]


def test_an_empty_tag_is_a_422_with_a_reason_as_its_schema_says(guide_app_client):
    r = guide_app_client.get("/api/search?q=support+groups&tag=")
    assert r.status_code == 422
    assert "tag" in r.json()["detail"] and r.json()["hint"], r.json()
    params = guide_app_client.get("/openapi.json").json()["paths"]["/api/search"]["get"]["parameters"]
    assert next(p for p in params if p["name"] == "tag")["schema"]["anyOf"][0]["items"]["minLength"] == 1


def test_tag_is_documented_in_the_openapi_schema(guide_app_client):
    params = guide_app_client.get("/openapi.json").json()["paths"]["/api/search"]["get"]["parameters"]
    tag = next(p for p in params if p["name"] == "tag")
    assert "top-level folder" in tag["description"]
    assert tag["schema"]["anyOf"][0]["type"] == "array"


def test_page_chips_work_without_javascript_and_mark_the_active_ones(guide_app_client):
    page = guide_app_client.get("/", params=[("q", QUESTION), ("tag", "tips")]).text
    chips = re.findall(
        r'<input type="checkbox" name="tag" value="([^"]+)"( checked)?> [^<]+ '
        r'<span class="chip-count">\((\d+)\)</span>',
        page,
    )
    assert ("tips", " checked") in [(value, checked) for value, checked, _ in chips]
    assert [value for value, _, _ in chips][:4] == ["online", "offline", "international", "tips"], "folders first"
    counts = [int(n) for _, _, n in chips[:4]]
    assert counts == sorted(counts, reverse=True), "the commonest folder first"
    assert '<form class="filters" action="/" method="get">' in page
    assert len(re.findall(r'<p class="cite">from:', page)) >= 2
    assert "/source/tips/" in page and "/source/online/" not in page


@pytest.mark.parametrize("lang, label", [("zh", "线上"), ("en", "online")])
def test_chip_labels_follow_the_page_language(guide_app_client, lang, label):
    page = guide_app_client.get("/", params={"q": QUESTION, "lang": lang}).text
    assert f'value="online"> {label} <span class="chip-count">' in page


def test_unknown_tag_on_the_page_is_a_422_page(guide_app_client):
    r = guide_app_client.get("/", params={"q": QUESTION, "tag": "nonsense"})
    assert r.status_code == 422 and "unknown tag &#39;nonsense&#39;" in r.text
