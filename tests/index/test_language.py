"""Two editions of the guide: a Chinese question gets the Chinese edition, an English one the English,
each resource once, with its twin for a language switch; and the shown confidence stays honest."""

from __future__ import annotations

import pytest

from tests.helpers import LOCAL, make_settings


@pytest.fixture(scope="module")
def searcher(default_index, embedder):
    from index import open_searcher

    return open_searcher(default_index, embedder)


@pytest.fixture(scope="module")
def api(default_index, embedder):
    from fastapi.testclient import TestClient

    from service.app import create_app

    with TestClient(create_app(make_settings(default_index), embedder=embedder), base_url=LOCAL) as client:
        yield client


@pytest.mark.parametrize(
    "text, lang",
    [
        ("做完碘131以后心里很慌，有没有人可以聊聊", "zh"),
        ("I-131 病友群", "zh"),
        ("甲狀腺癌病友群怎麼找", "zh"),
        ("where can I talk to people about I-131", "en"),
        ("haodf doctor page group 入口", "en"),
        ("", "en"),
    ],
)
def test_question_language_is_detected(text, lang):
    from index.language import detect

    assert detect(text) == lang


def test_twin_key_strips_only_a_language_suffix():
    from index.language import language_of, twin_key

    assert twin_key("online/zhihu.zh") == twin_key("online/zhihu") == "online/zhihu"
    assert twin_key("library/v1.2") == "library/v1.2"
    assert language_of("online/zhihu.zh") == "zh"
    assert language_of("online/zhihu.zh", "zh-Hans") == "zh"
    assert language_of("online/zhihu") == "en"


def test_chinese_question_gets_a_chinese_answer_from_the_chinese_edition_with_its_links(searcher):
    result = searcher.search("做完碘131以后心里很慌，有没有人可以聊聊", 5)
    assert result.lang == "zh"
    assert result.answer is not None
    best = result.hits[result.answer.result]
    assert best.lang == "zh" and best.chunk.doc_id.endswith(".zh")
    assert result.answer.text in best.chunk.text  # verbatim, so the page can mark it in the passage
    assert best.chunk.links and all(l.url.startswith("https://") for l in best.chunk.links)
    assert ("en", best.chunk.doc_id.removesuffix(".zh")) in best.twins
    haodf = searcher.search("好大夫在线 病友群", 3).hits[0]
    assert haodf.chunk.doc_id == "online/haodf.zh"
    assert [l.url for l in haodf.chunk.links] == ["https://www.haodf.com"]


def test_english_question_still_gets_the_english_edition(searcher):
    result = searcher.search("where can I talk to people about I-131", 5)
    assert result.lang == "en"
    assert all(h.lang == "en" for h in result.hits)
    assert result.hits[result.answer.result].chunk.doc_id == "online/mi-jian"
    assert result.hits[0].twins == (("zh", "online/mi-jian.zh"),)


def test_traditional_characters_find_the_simplified_edition(searcher):
    result = searcher.search("小紅書 甲狀腺癌日記", 5)
    assert result.hits[0].chunk.doc_id == "online/xiaohongshu.zh"


@pytest.mark.parametrize("question", ["小红书", "xiaohongshu diary", "I-131 病友群", "patient group 病友群"])
def test_a_resource_is_never_shown_in_two_languages(searcher, question):
    from index.language import twin_key

    hits = searcher.search(question, 10).hits
    editions = {}
    for h in hits:
        assert editions.setdefault(twin_key(h.chunk.doc_id), h.chunk.doc_id) == h.chunk.doc_id


def test_api_result_carries_language_and_twin(api):
    body = api.get("/api/search", params={"q": "确诊甲状腺癌以后，我想找一些病友交流经验"}).json()
    assert body["lang"] == "zh"
    first = body["results"][0]
    assert first["lang"] == "zh" and first["id"].split("#")[0].endswith(".zh")
    twin = first["twins"][0]
    assert twin["lang"] == "en" and twin["doc"] == first["id"].split("#")[0].removesuffix(".zh")
    assert twin["url"].endswith(f"/source/{twin['doc']}")
    assert api.get(twin["url"]).status_code == 200  # relative: never built from the Host header
    english = api.get("/api/search", params={"q": "zhihu thyroid cancer"}).json()
    assert english["lang"] == "en" and english["results"][0]["lang"] == "en"


def test_shown_confidence_is_never_one_and_ranks_other_sites_lower(searcher):
    # The example: three passages read 1.00, two of them about other sites.
    hits = searcher.search("A place where patients write about their experience and doctors answer questions", 5).hits
    assert all(h.confidence <= 0.99 for h in hits)
    assert hits[0].chunk.doc_id == "online/mi-jian"
    assert sum(h.confidence >= 0.9 for h in hits) <= 1
    assert [h.confidence for h in hits] == sorted((h.confidence for h in hits), reverse=True)


@pytest.mark.parametrize("question", ["优甲乐每天应该吃几片", "明天上海天气怎么样"])
def test_chinese_questions_the_guide_must_decline(searcher, question):
    result = searcher.search(question, 5)
    assert result.answer is None
    assert all(h.weak for h in result.hits)
