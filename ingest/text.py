"""Small text helpers shared by the readers and the chunker."""

from __future__ import annotations

import re
import unicodedata

# CJK scripts: kana, the unified ideographs (extension A and the basic block), compatibility ideographs and
# Hangul. The one definition for BM25's tokens, highlighting, language detection and the answer model;
# widget.js keeps a copy for its highlighting (tests/service/test_widget_rules.py checks they are equal).
CJK_CHARS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
CJK_RUN = re.compile(f"[{CJK_CHARS}]+")


def cjk_share(text: str) -> float:
    """The share of the text's non-space characters that are CJK (a feature of the answer model, and
    what tells a Chinese question from an English one)."""
    letters = [ch for ch in text if not ch.isspace()]
    return sum(1 for ch in letters if CJK_RUN.match(ch)) / len(letters) if letters else 0.0


# Closing quotes and brackets after a full stop stay with their sentence: a lookbehind has a fixed
# width in `re`, so up to two of them are spelled out.
_SENTENCE_END = re.compile(
    r"""(?<=[.!?…])\s+(?=\S)                              # Latin sentence end followed by space
    | (?<=[.!?…]["'”’)\]])\s+(?=\S)                      # ... after a closing quote or bracket
    | (?<=[.!?…]["'”’)\]]["'”’)\]])\s+(?=\S)            # ... or two
    | (?<=[。！？；])                                     # CJK full stops need no space
    | \n+                                                # a line break ends a list item or paragraph
    """,
    re.VERBOSE,
)


def find_in_passage(answer: str, passage: str) -> tuple[int, int] | None:
    """Where the answer stands in its passage (start, end), whatever white space the passage has between
    its words, or None. The one rule for the extractive answer (index/search.py) and for marking it on
    the page (service/highlight.py). \\s* rather than \\s+: Chinese sentences follow each other with
    no space in the passage, and the answer joins them with one."""
    words = answer.split()
    match = re.search(r"\s*".join(re.escape(w) for w in words), passage) if words else None
    return match.span() if match else None


def solid_length(text: str) -> int:
    """How many characters of the text are not white space: a position that survives re-spacing
    (chunking joins and strips the white space between sentences)."""
    return len("".join(text.split()))


def split_sentences(text: str) -> list[str]:
    """Split on sentence ends (Latin and CJK punctuation) and line breaks, keeping punctuation."""
    parts = [p.strip() for p in _SENTENCE_END.split(text)]
    return [p for p in parts if p]


def slugify(text: str) -> str:
    """A URL fragment that keeps CJK letters, so Chinese headings get readable anchors."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = re.sub(r"[^\w\s-]", "", text)
    text = re.sub(r"[\s_-]+", "-", text).strip("-")
    return text or "section"
