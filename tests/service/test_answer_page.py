"""What a reader sees on the question page: the answer marked in its passage, results grouped by
document, a friendly message with topics when nothing answers, and the spelling that was searched."""

from __future__ import annotations

import re


def page(app_client, q):
    r = app_client.get("/", params={"q": q})
    assert r.status_code == 200
    return r.text


def test_answer_is_highlighted_inside_its_cited_passage(app_client):
    html = page(app_client, "where can I talk to people about I-131")
    assert 'class="answer"' in html
    span = re.search(r'<strong class="answer-span">(.*?)</strong>', html, re.S)
    assert span and "I-131" in re.sub(r"<[^>]+>", "", span.group(1))


def test_each_document_is_shown_once_with_its_sections_together(app_client):
    html = page(app_client, "wechat patient groups")
    titles = re.findall(r'<li class="doc">\s*<h2><a href="/source/([^"]+)">', html)
    assert titles and len(titles) == len(set(titles))


def test_off_topic_question_gets_a_friendly_message_and_topics(app_client):
    html = page(app_client, "easy chocolate cake recipe")
    assert 'class="answer"' not in html
    assert "Nothing in this guide answers that question directly" in html
    assert html.count('<li><a href="/source/') >= 3
    assert "Less related" in html


def test_misspelt_question_shows_what_was_searched(app_client):
    html = page(app_client, "thyriod cancer patient gruop wechat")
    assert "Searched for" in html and "thyroid cancer patient group wechat" in html
    body = app_client.get("/api/search", params={"q": "thyriod cancer patient gruop wechat"}).json()
    assert body["results"][0]["id"].startswith("online/wechat-groups")
