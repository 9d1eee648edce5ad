"""Query expansion with the curated synonym groups: 'RAI' also asks for 'radioactive iodine', 'I-131', 碘131."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from ingest.text import CJK_RUN

from .lexical import query_tokens

# A maximal run of the characters a Latin term's boundaries are about (see _pattern).
_RUN = re.compile(r"[a-z0-9]+")


def _normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def _pattern(term: str) -> re.Pattern:
    """term: already normalised."""
    if CJK_RUN.search(term):
        return re.compile(re.escape(term))  # Chinese has no word boundaries to respect
    return re.compile(r"(?<![a-z0-9])" + re.escape(term) + r"(?![a-z0-9])")


def _needs(term: str) -> tuple[str, str] | None:
    """What a query must contain for the term to match in it: for a Latin term its leading [a-z0-9]
    run, whole (its boundary pattern makes it a whole run of the query too: 'i-131' -> 'i'), else its
    first character (a Chinese term is a plain substring); None for an empty term."""
    m = None if CJK_RUN.search(term) else _RUN.match(term)
    if m:
        return "run", m.group(0)
    return ("char", term[0]) if term else None


@dataclass(frozen=True)
class Matches:
    """The synonym groups a query mentions: what expansions() and alternatives() return, found once."""

    expansions: list[str]
    alternatives: dict[str, set[str]]


class SynonymExpander:
    def __init__(self, groups: list[list[str]]):
        self.groups = [(group, [(term, _pattern(term)) for term in map(_normalise, group)]) for group in groups]
        # Which groups a query can mention, by what their terms need (_needs): testing every term of
        # every group took ~0.1 ms a query on the default corpus's groups.
        self._by_need: dict[tuple[str, str], list[int]] = {}
        self._always: list[int] = []  # groups with an empty term
        for i, (_, patterns) in enumerate(self.groups):
            needs = [_needs(term) for term, _ in patterns]
            if None in needs:
                self._always.append(i)
                continue
            for need in dict.fromkeys(needs):
                self._by_need.setdefault(need, []).append(i)

    def expansions(self, query: str) -> list[str]:
        """Synonyms of the terms in the query that the query does not already contain."""
        return self.match(query).expansions

    def alternatives(self, query: str) -> dict[str, set[str]]:
        """Each lexical token of a matched term → the tokens of its synonyms, so a passage that
        says 'radioactive iodine' counts as covering the question's 'RAI'."""
        return self.match(query).alternatives

    def match(self, query: str) -> Matches:
        """expansions and alternatives, the groups matched once."""
        expansions: list[str] = []
        alternatives: dict[str, set[str]] = {}
        for matched, others in self._matches(query):
            expansions.extend(t for t in others if t not in expansions)
            alt = {t for other in others for t in query_tokens(other)}
            for term in matched:
                for token in query_tokens(term):
                    alternatives.setdefault(token, set()).update(alt)
        return Matches(expansions, alternatives)

    def _matches(self, query: str) -> list[tuple[list[str], list[str]]]:
        text = _normalise(query)
        candidates = set(self._always)
        for need in {("run", run) for run in _RUN.findall(text)} | {("char", c) for c in text}:
            candidates.update(self._by_need.get(need, ()))
        found = []
        for i in sorted(candidates):
            group, patterns = self.groups[i]
            # The plain substring test first: it rules out almost every term for a fraction of a
            # regex search's cost (the regex alone was ~1.5 ms a query, 15% of a search).
            present = [term in text and bool(p.search(text)) for term, p in patterns]
            if any(present):
                found.append(
                    ([t for t, hit in zip(group, present) if hit], [t for t, hit in zip(group, present) if not hit])
                )
        return found
