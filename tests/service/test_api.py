"""The JSON API and pages against a real uvicorn server on the default corpus."""

from __future__ import annotations

import re

import pytest

EXAMPLE = "where can I talk to people about I-131"


def test_search_json_shape(app_client):
    r = app_client.get("/api/search", params={"q": EXAMPLE, "k": 5})
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


def test_search_says_what_was_searched_and_which_results_are_weak(app_client):
    typo = app_client.get("/api/search", params={"q": "thyriod cancer gruop"}).json()
    assert typo["query"] == "thyriod cancer gruop" and typo["corrected"] == "thyroid cancer group"
    assert app_client.get("/api/search", params={"q": "thyroid cancer group"}).json()["corrected"] is None
    # The same labels the question page shows: an off-topic question's passages are all weak.
    off_topic = app_client.get("/api/search", params={"q": "easy chocolate cake recipe"}).json()
    assert off_topic["results"] and all(r["weak"] is True for r in off_topic["results"])
    page = app_client.get("/", params={"q": "easy chocolate cake recipe"}).text
    assert page.count('<p class="weak-label">Less related</p>') == len(off_topic["results"])
    on_topic = app_client.get("/api/search", params={"q": EXAMPLE}).json()
    assert on_topic["results"][0]["weak"] is False


def test_openapi_documents_weak_and_corrected(app_client):
    schemas = app_client.get("/openapi.json").json()["components"]["schemas"]
    assert "Less related" in schemas["ResultOut"]["properties"]["weak"]["description"]
    assert "spelling" in schemas["SearchOut"]["properties"]["corrected"]["description"]
    assert "weak" not in schemas["ResultOut"].get("required", []), "an additive, optional field"


def test_example_question_returns_i131_passages_with_links(app_client):
    body = app_client.get("/api/search", params={"q": EXAMPLE}).json()
    top = body["results"][:3]
    assert any("I-131" in r["text"] for r in top), [r["id"] for r in top]
    docs = {r["id"].split("#")[0] for r in top}
    assert docs & {"online/mi-jian", "online/xiaohongshu"}, docs
    assert any(r["links"] for r in body["results"]), "a result with external links"
    assert body["answer"] and body["answer"]["text"] in body["results"][body["answer"]["result"]]["text"]


def test_permalink_lands_on_the_passage(app_client):
    res = app_client.get("/api/search", params={"q": EXAMPLE}).json()["results"][0]
    path, anchor = res["url"].split("#")
    page = app_client.get(path.replace(str(app_client.base_url), ""))
    assert page.status_code == 200
    assert f'id="{anchor}"' in page.text
    assert res["title"] in page.text


@pytest.mark.parametrize(
    "params, reason",
    [
        ({"q": ""}, "empty"),
        ({"q": "   \t "}, "empty"),
        ({"q": "x" * 600}, "limit"),
        ({"q": "I-131", "k": 0}, "k must be"),
        ({"q": "I-131", "k": 1000}, "k must be"),
        ({"q": "I-131", "k": "many"}, "k"),
        ({}, "q"),
    ],
)
def test_bad_queries_get_422_with_a_reason(app_client, params, reason):
    r = app_client.get("/api/search", params=params)
    assert r.status_code == 422
    assert reason in r.json()["detail"]


def test_healthz_reports_the_live_manifest(app_client):
    body = app_client.get("/healthz").json()
    assert body["status"] == "ok"
    assert body["index"]["chunk_count"] > 20 and body["index"]["model"] == "all-MiniLM-L6-v2"
    assert body["index"]["version"].startswith("v")


def test_openapi_docs_are_served(app_client):
    assert app_client.get("/docs").status_code == 200
    schema = app_client.get("/openapi.json").json()
    assert "/api/search" in schema["paths"]


def test_page_renders_answers_server_side(app_client):
    r = app_client.get("/", params={"q": EXAMPLE})
    assert r.status_code == 200
    assert "<mark>I-131</mark>" in r.text
    assert 'class="answer"' in r.text and "from:" in r.text
    assert re.search(r'href="https?://', r.text), "external links are shown"
    assert "not medical" in r.text


def test_page_without_question_shows_the_form(app_client):
    r = app_client.get("/")
    assert r.status_code == 200 and '<form class="ask"' in r.text and 'name="q"' in r.text


def test_query_html_is_escaped_in_the_page(app_client):
    r = app_client.get("/", params={"q": '"><img src=x onerror=alert(1)> I-131'})
    assert "<img src=x" not in r.text and "&lt;img src=x onerror=alert(1)&gt;" in r.text


def test_unknown_source_is_a_friendly_404(app_client):
    r = app_client.get("/source/no/such/doc")
    assert r.status_code == 404 and "no such document" in r.text


def test_off_topic_question_gets_no_answer(app_client):
    body = app_client.get("/api/search", params={"q": "what is the price of bitcoin today"}).json()
    assert body["answer"] is None
