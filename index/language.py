"""Which language a question or a passage is in, and which documents are editions of one another.

A translation sits beside its original with the language before the extension
(`online/zhihu.md` and `online/zhihu.zh.md`, Hugo's translation-by-filename), so the ids are
`online/zhihu` and `online/zhihu.zh`, and both share the twin key `online/zhihu`.
"""

from __future__ import annotations

import re

from ingest.text import CJK_RUN

DEFAULT_LANGUAGE = "en"
# Languages a document id may end in ('.zh'); a suffix outside this list is part of the name.
KNOWN_LANGUAGES = ("en", "zh")
_SUFFIX = re.compile(r"\.(" + "|".join(KNOWN_LANGUAGES) + r")$")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


def detect(text: str) -> str:
    """'zh' or 'en'. A Chinese character carries about a word, so a question is Chinese when it has at
    least as many CJK characters as Latin words: '做完碘131以后心里很慌' and 'I-131 病友群' are Chinese,
    'thyca 低碘 cookbook' is Chinese (2 to 2), 'haodf doctor page 入口' is English. Measured on
    bench/eval: every question of zh.yaml and zh-holdout.yaml is 'zh', every one of the English sets 'en'
    except the mixed ones the tuning set marks as such."""
    cjk = sum(len(run) for run in CJK_RUN.findall(text))
    return "zh" if cjk and cjk >= len(_LATIN_WORD.findall(text)) else "en"


def twin_key(doc_id: str) -> str:
    """The id every edition of a document shares: the id without its language suffix."""
    return _SUFFIX.sub("", doc_id)


def primary_subtag(tag: str | None) -> str:
    """The language of a BCP 47 tag, the one way Beacon reads one: 'zh-Hans', 'zh-CN', 'zh_TW' → 'zh';
    'en-GB' → 'en'; '' for none."""
    return (tag or "").strip().lower().replace("_", "-").split("-", 1)[0]


def language_of(doc_id: str, declared: str | None = None, default: str = DEFAULT_LANGUAGE) -> str:
    """A document's language: the one it declares (front matter `lang`, the page's <html lang>, or
    the corpus default in beacon.toml), else its id's language suffix, else the default. Only the
    primary subtag counts: zh-CN and zh-Hans are zh."""
    if declared:
        return primary_subtag(declared) or default
    m = _SUFFIX.search(doc_id)
    return m.group(1) if m else default
