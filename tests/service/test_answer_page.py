"""What a reader sees on the question page: the answer marked in its passage, results grouped by
document, a friendly message with topics when nothing answers, and the spelling that was searched
(on the small test guide, tests/fixtures/guide)."""

from __future__ import annotations

import re


def page(guide_app_client, q):
    r = guide_app_client.get("/", params={"q": q})
    assert r.status_code == 200
    return r.text


def test_answer_is_highlighted_inside_its_cited_passage(guide_app_client):
    html = page(guide_app_client, "where can I talk to people about H-alpha")
    assert 'class="answer"' in html
    span = re.search(r'<strong class="answer-span">(.*?)</strong>', html, re.S)
    assert span and "H-alpha" in re.sub(r"<[^>]+>", "", span.group(1))


def test_each_document_is_shown_once_with_its_sections_together(guide_app_client):
    html = page(guide_app_client, "stargazing chat groups")
    titles = re.findall(r'<li class="doc">\s*<h2><a href="/source/([^"]+)">', html)
    assert titles and len(titles) == len(set(titles))


def test_off_topic_question_gets_a_friendly_message_and_topics(guide_app_client):
    html = page(guide_app_client, "easy chocolate cake recipe")
    assert 'class="answer"' not in html
    assert "This small guide does not answer that question" in html  # tests/fixtures/guide/beacon.toml
    assert html.count('<li><a href="/source/') >= 3
    assert "Less related" in html


def test_misspelt_question_shows_what_was_searched(guide_app_client):
    html = page(guide_app_client, "stargazng club gruop chat")
    assert "Searched for" in html and "stargazing club group chat" in html
    body = guide_app_client.get("/api/search", params={"q": "stargazng club gruop chat"}).json()
    assert body["results"][0]["id"].startswith("online/chat-groups#")
