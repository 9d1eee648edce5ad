"""The widget's JavaScript copies of Python rules stay equal to the one definition in Python."""

from __future__ import annotations

import re

from ingest.text import CJK_CHARS
from service.highlight import STOPWORDS
from tests.helpers import GUIDE_CORPUS, ROOT

WIDGET = (ROOT / "service" / "static" / "widget.js").read_text(encoding="utf-8")


def test_widget_cjk_range_is_ingest_texts():
    found = re.search(r'var CJK_RE = "([^"]+)";', WIDGET)
    assert found, "widget.js no longer defines CJK_RE: update this test with it"
    assert found.group(1).encode().decode("unicode_escape") == CJK_CHARS


def test_widget_highlight_stop_words_are_highlight_pys():
    found = re.search(r"var STOP = new Set\(\((.*?)\)\.split", WIDGET, flags=re.S)
    assert found, "widget.js no longer defines STOP: update this test with it"
    words = " ".join(re.findall(r'"([^"]*)"', found.group(1))).split()
    assert set(words) == STOPWORDS and len(words) == len(STOPWORDS)


def test_the_page_and_widget_take_their_limits_from_the_settings(guide_index, embedder):
    from fastapi.testclient import TestClient

    from service.app import create_app
    from tests.helpers import LOCAL, make_settings

    app = create_app(
        make_settings(guide_index, GUIDE_CORPUS, max_query_chars=100, default_k=3, max_k=7), embedder=embedder
    )
    with TestClient(app, base_url=LOCAL) as c:
        page = c.get("/").text
        js = c.get("/widget.js").text
    assert 'maxlength="100"' in page
    assert 'var LIMITS = {"maxQueryChars": 100, "defaultK": 3, "maxK": 7};' in js


def test_widget_code_fence_is_ingest_texts():
    from ingest.text import _FENCE

    found = re.search(r"var FENCE_RE = /(.+)/;", WIDGET)
    assert found, "widget.js no longer defines FENCE_RE: update this test with it"
    assert found.group(1) == _FENCE.pattern
