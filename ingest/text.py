"""Small text helpers shared by the readers and the chunker."""

from __future__ import annotations

import re
import unicodedata

_SENTENCE_END = re.compile(
    r"""(?<=[.!?…])["'”’)\]]*\s+(?=[^\s])   # Latin sentence end followed by space
    | (?<=[。！？；])                         # CJK full stops need no space
    | \n+                                    # a line break ends a list item or paragraph
    """,
    re.VERBOSE,
)


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
