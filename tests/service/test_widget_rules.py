"""The widget's JavaScript copies of Python rules stay equal to the one definition in Python."""

from __future__ import annotations

import re

from ingest.text import CJK_CHARS
from service.highlight import STOPWORDS
from tests.helpers import ROOT

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
