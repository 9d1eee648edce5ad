"""Query expansion with the curated synonym groups: 'RAI' also asks for 'radioactive iodine', 'I-131', 碘131."""

from __future__ import annotations

import re
import unicodedata

from .lexical import _CJK


def _normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def _pattern(term: str) -> re.Pattern:
    term = _normalise(term)
    if _CJK.search(term):
        return re.compile(re.escape(term))  # Chinese has no word boundaries to respect
    return re.compile(r"(?<![a-z0-9])" + re.escape(term) + r"(?![a-z0-9])")


class SynonymExpander:
    def __init__(self, groups: list[list[str]]):
        self.groups = [(group, [_pattern(t) for t in group]) for group in groups]

    def expansions(self, query: str) -> list[str]:
        """Synonyms of the terms in the query that the query does not already contain."""
        text = _normalise(query)
        out: list[str] = []
        for group, patterns in self.groups:
            present = [bool(p.search(text)) for p in patterns]
            if any(present):
                out.extend(t for t, hit in zip(group, present) if not hit and t not in out)
        return out
