"""The interface in English and Simplified Chinese: catalogs complete, the page's language chosen and switchable."""

from __future__ import annotations

import re

import pytest
from starlette.requests import Request

from service.i18n import LOCALES, accept_language, load_catalogs, page_language
from tests.helpers import ROOT

ZH_QUESTION = "刚买了第一台望远镜，心里没底，有没有人可以聊聊"


def _request(query: str = "", accept: str | None = None) -> Request:
    headers = [(b"accept-language", accept.encode())] if accept else []
    return Request({"type": "http", "method": "GET", "path": "/", "query_string": query.encode(), "headers": headers})


def test_every_interface_string_has_a_chinese_translation_with_the_same_placeholders():
    from babel.messages.extract import extract_from_dir
    from babel.messages.frontend import parse_mapping_cfg
    from babel.messages.pofile import read_po

    with open(ROOT / "babel.cfg") as f:
        method_map, options_map = parse_mapping_cfg(f)
    wanted = {msg[2] for msg in extract_from_dir(str(ROOT), method_map, options_map)}
    with open(LOCALES / "zh/LC_MESSAGES/messages.po", "rb") as f:
        catalog = read_po(f)
    placeholders = re.compile(r"%\(\w+\)[sd]|<[^>]+>")
    for msgid in wanted:
        message = catalog.get(msgid)
        strings = () if message is None else message.string if isinstance(message.string, tuple) else (message.string,)
        assert strings and all(strings), f"no Chinese for {msgid!r}: run the commands in babel.cfg, then translate"
        source = msgid if isinstance(msgid, str) else msgid[1]
        assert sorted(placeholders.findall(source)) == sorted(placeholders.findall(strings[0])), msgid
    stale = {m.id for m in catalog if m.id} - wanted
    assert not stale, f"translations of strings no longer used: {stale}"


def test_catalogs_load_from_the_po_files_without_a_build_step():
    catalogs = load_catalogs()
    assert catalogs["zh"].gettext("Search") == "搜索"
    assert catalogs["en"].gettext("Search") == "Search"


@pytest.mark.parametrize(
    "header, expected",
    [
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh"),
        ("en-GB,en;q=0.9", "en"),
        ("fr-FR, zh-Hans;q=0.5, en;q=0.4", "zh"),
        ("de", None),
        ("", None),
        ("en;q=0, zh;q=0.1", "zh"),
        ("zh-TW", "zh"),
        ("en;q=bad", "en"),
    ],
)
def test_accept_language(header, expected):
    assert accept_language(header) == expected


def test_page_language_order_lang_parameter_then_chinese_question_then_accept_language():
    assert page_language(_request("lang=en", "zh-CN"), ZH_QUESTION) == "en"
    assert page_language(_request("", "en"), ZH_QUESTION) == "zh"
    assert page_language(_request("", "zh-CN"), "where can I talk to people") == "zh"
    assert page_language(_request("lang=xx"), "hello") == "en"
    assert page_language(_request("lang=zh-Hans")) == "zh"
    # Chinese aliases in an English question do not make it a Chinese question.
    assert page_language(_request(), "where is 觅健 for I-131 diaries") == "en"


@pytest.mark.parametrize(
    "question",
    [
        "thyca 低碘 cookbook",
        "I-131 病友群",
        "haodf doctor page 入口",
        "where is 觅健 for I-131 diaries",
        "做完碘131以后心里很慌",
    ],
)
def test_the_page_and_the_search_read_a_questions_language_by_one_rule(question):
    from index.language import detect

    # 'thyca 低碘 cookbook' is Chinese to search (2 CJK characters, 2 Latin words); the page spoke
    # English to it while the answer came from the Chinese edition.
    assert page_language(_request(), question) == detect(question)


def test_chinese_question_gets_a_chinese_page_with_a_switch_keeping_the_question(guide_app_client):
    r = guide_app_client.get("/", params={"q": ZH_QUESTION})
    assert r.status_code == 200
    assert '<html lang="zh-Hans">' in r.text
    assert "提个问题" in r.text and "跳到正文" in r.text
    switch = re.search(r'<a class="lang-switch" href="([^"]+)" lang="en"', r.text)
    assert switch, "a visible link to the English page"
    english = guide_app_client.get(switch.group(1).replace("&amp;", "&"))
    assert '<html lang="en">' in english.text and "Ask a question" in english.text
    assert 'value="刚买了第一台望远镜,心里没底' in english.text  # the question kept (NFKC: "，" is ",")


def test_accept_language_picks_chinese_and_lang_parameter_overrides_it(guide_app_client):
    assert '<html lang="zh-Hans">' in guide_app_client.get("/", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).text
    r = guide_app_client.get("/?lang=en", headers={"Accept-Language": "zh-CN"})
    assert '<html lang="en">' in r.text
    # The browser would not pick English by itself, so the form and links keep ?lang=en.
    assert '<input type="hidden" name="lang" value="en">' in r.text


def test_source_and_error_pages_in_chinese(guide_app_client):
    source = guide_app_client.get("/source/online/skyglass?lang=zh")
    assert '<html lang="zh-Hans">' in source.text and "← 再问一个问题" in source.text
    missing = guide_app_client.get("/source/no-such-doc", headers={"Accept-Language": "zh"})
    assert missing.status_code == 404
    assert "这里没有这篇文档。" in missing.text and "没有找到" in missing.text
    empty = guide_app_client.get("/?q=%20%20x&lang=zh")
    assert '<html lang="zh-Hans">' in empty.text


def test_result_count_is_announced_in_the_page_language(guide_app_client):
    zh = guide_app_client.get("/", params={"q": "H-alpha observing logs", "lang": "zh"}).text
    assert re.search(r'role="status" aria-live="polite">\d+ 段内容，来自 \d+ 个来源', zh)
    en = guide_app_client.get("/", params={"q": "H-alpha observing logs"}).text
    assert re.search(r'role="status" aria-live="polite">\d+ passages? from \d+ sources?', en)


def test_widget_string_tables_have_the_same_keys():
    js = (ROOT / "service/static/widget.js").read_text()
    tables = dict(re.findall(r"\n    (en|zh): \{(.*?)\n    \}", js, re.DOTALL))
    keys = {lang: set(re.findall(r'(?:^|,)\s*(\w+): "', body, re.MULTILINE)) for lang, body in tables.items()}
    assert set(keys) == {"en", "zh"} and keys["en"] == keys["zh"] and len(keys["en"]) > 10


def test_the_page_explains_a_bad_question_in_its_language(guide_app_client):
    from service.pages import QUERY_ERRORS
    from service.query import QueryError, clean_query

    for raw in ("   ", "\ufffd"):
        with pytest.raises(QueryError) as e:
            clean_query(raw, 100)
        assert e.value.message in QUERY_ERRORS
    r = guide_app_client.get("/", params={"q": "\u200b", "lang": "zh"})
    assert r.status_code == 422 and "问题是空的" in r.text
    assert "the question is empty" in guide_app_client.get("/", params={"q": "\u200b"}).text


def test_unknown_address_gets_the_404_page_in_the_readers_language_and_api_stays_json(guide_app_client):
    page = guide_app_client.get("/no/such/page", headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 404 and "这个网址没有对应的页面。" in page.text and '<html lang="zh-Hans">' in page.text
    assert "There is no page at this address." in guide_app_client.get("/no/such/page").text
    api = guide_app_client.get("/api/nothing")
    assert api.status_code == 404 and api.json() == {"detail": "Not Found", "hint": None}


def test_pages_tell_caches_they_vary_by_language(guide_app_client):
    for path in ("/", "/?q=H-alpha", "/source/online/skyglass", "/source/nope"):
        assert "Accept-Language" in guide_app_client.get(path).headers.get("vary", ""), path


def test_the_sites_own_words_come_in_the_pages_language(guide_app_client):
    english = guide_app_client.get("/", params={"lang": "en"}).text
    chinese = guide_app_client.get("/", params={"lang": "zh"}).text
    assert "Friendly places to share the night sky" in english
    assert "和别人一起分享星空的友好去处" in chinese  # tests/fixtures/guide/beacon.toml's [copy.zh]
    assert "千万不要用望远镜看太阳" in chinese and "Never look at the Sun" not in chinese
    assert "Never look at the Sun" in english and "千万不要用望远镜看太阳" not in english


def test_a_copy_table_with_an_unknown_word_names_it(tmp_path):
    from ingest.errors import CorpusError
    from ingest.site import load_site

    (tmp_path / "beacon.toml").write_text('[copy]\ntagline = "Hi"\n\n[copy.zh]\ntaglin = "你好"\n', encoding="utf-8")
    with pytest.raises(CorpusError) as e:
        load_site(tmp_path)
    assert "[copy.zh]" in str(e.value) and "taglin" in str(e.value) and e.value.line == 5
