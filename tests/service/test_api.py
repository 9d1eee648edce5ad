"""The JSON API and pages, in process, on the small test guide (tests/fixtures/guide)."""

from __future__ import annotations

import re

import pytest

EXAMPLE = "where can I talk to people about H-alpha"


def test_search_json_shape(guide_app_client):
    r = guide_app_client.get("/api/search", params={"q": EXAMPLE, "k": 5})
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"query", "answer", "results", "took_ms", "corrected", "lang", "facets"}
    assert body["query"] == EXAMPLE and isinstance(body["took_ms"], float)
    assert 1 <= len(body["results"]) <= 5
    for res in body["results"]:
        assert set(res) == {"id", "title", "section", "text", "url", "links", "score", "weak", "lang", "twins", "more"}
        assert isinstance(res["weak"], bool)
        assert all(set(m) == {"id", "text", "url"} for m in res["more"])
        assert all(set(l) == {"text", "url"} for l in res["links"])
    scores = [r["score"] for r in body["results"]]
    assert scores == sorted(scores, reverse=True)
    assert set(body["answer"]) == {"text", "result"}


def test_search_says_what_was_searched_and_which_results_are_weak(guide_app_client):
    typo = guide_app_client.get("/api/search", params={"q": "telescpe astronmy gruop"}).json()
    assert typo["query"] == "telescpe astronmy gruop" and typo["corrected"] == "telescope astronomy group"
    assert guide_app_client.get("/api/search", params={"q": "telescope astronomy group"}).json()["corrected"] is None
    # The same labels the question page shows: an off-topic question's passages are all weak.
    off_topic = guide_app_client.get("/api/search", params={"q": "easy chocolate cake recipe"}).json()
    assert off_topic["results"] and all(r["weak"] is True for r in off_topic["results"])
    page = guide_app_client.get("/", params={"q": "easy chocolate cake recipe"}).text
    assert page.count('<p class="weak-label">Less related</p>') == len(off_topic["results"])
    on_topic = guide_app_client.get("/api/search", params={"q": EXAMPLE}).json()
    assert on_topic["results"][0]["weak"] is False


def test_openapi_documents_weak_and_corrected(guide_app_client):
    schemas = guide_app_client.get("/openapi.json").json()["components"]["schemas"]
    assert "Less related" in schemas["ResultOut"]["properties"]["weak"]["description"]
    assert "spelling" in schemas["SearchOut"]["properties"]["corrected"]["description"]
    assert "weak" not in schemas["ResultOut"].get("required", []), "an additive, optional field"


def test_example_question_returns_h_alpha_passages_with_links(guide_app_client):
    body = guide_app_client.get("/api/search", params={"q": EXAMPLE}).json()
    top = body["results"][:3]
    assert any("H-alpha" in r["text"] for r in top), [r["id"] for r in top]
    assert top[0]["id"].split("#")[0] == "online/skyglass", [r["id"] for r in top]
    assert {"text": "Skyglass (观星镜) website", "url": "https://example.org/skyglass"} in top[0]["links"]
    assert body["answer"] and body["answer"]["text"] in body["results"][body["answer"]["result"]]["text"]


def test_permalink_lands_on_the_passage(guide_app_client):
    res = guide_app_client.get("/api/search", params={"q": EXAMPLE}).json()["results"][0]
    path, anchor = res["url"].split("#")
    page = guide_app_client.get(path.replace(str(guide_app_client.base_url), ""))
    assert page.status_code == 200
    assert f'id="{anchor}"' in page.text
    assert res["title"] in page.text


@pytest.mark.parametrize(
    "params, reason",
    [
        ({"q": ""}, "empty"),
        ({"q": "   \t "}, "empty"),
        ({"q": "x" * 600}, "limit"),
        ({"q": "H-alpha", "k": 0}, "k must be"),
        ({"q": "H-alpha", "k": 1000}, "k must be"),
        ({"q": "H-alpha", "k": "many"}, "k"),
        ({}, "q"),
    ],
)
def test_bad_queries_get_422_with_a_reason(guide_app_client, params, reason):
    r = guide_app_client.get("/api/search", params=params)
    assert r.status_code == 422
    assert reason in r.json()["detail"]


def test_healthz_reports_the_live_version_and_its_size(guide_app_client):
    body = guide_app_client.get("/healthz").json()
    assert body["status"] == "ok"
    assert body["chunks"] > 20 and body["version"].startswith("v")


def test_openapi_docs_are_served(guide_app_client):
    assert guide_app_client.get("/docs").status_code == 200
    schema = guide_app_client.get("/openapi.json").json()
    assert "/api/search" in schema["paths"]


def test_page_renders_answers_server_side(guide_app_client):
    r = guide_app_client.get("/", params={"q": EXAMPLE})
    assert r.status_code == 200
    assert "<mark>H-alpha</mark>" in r.text
    assert 'class="answer"' in r.text and "from:" in r.text
    assert re.search(r'href="https?://', r.text), "external links are shown"
    assert "without a proper solar filter" in r.text  # the site's disclaimer (tests/fixtures/guide/beacon.toml)


def test_page_without_question_shows_the_form(guide_app_client):
    r = guide_app_client.get("/")
    assert r.status_code == 200 and '<form class="ask"' in r.text and 'name="q"' in r.text


def test_query_html_is_escaped_in_the_page(guide_app_client):
    r = guide_app_client.get("/", params={"q": '"><img src=x onerror=alert(1)> H-alpha'})
    assert "<img src=x" not in r.text and "&lt;img src=x onerror=alert(1)&gt;" in r.text


def test_unknown_source_is_a_friendly_404(guide_app_client):
    r = guide_app_client.get("/source/no/such/doc")
    assert r.status_code == 404 and "no such document" in r.text


def test_off_topic_question_gets_no_answer(guide_app_client):
    body = guide_app_client.get("/api/search", params={"q": "what is the price of bitcoin today"}).json()
    assert body["answer"] is None
