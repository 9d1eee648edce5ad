"""Spelling correction for query words: 'thyriod' → 'thyroid', 'gruop' → 'group'.

Only words the corpus does not contain and that are not ordinary English words (SymSpell's bundled
82k-word frequency list) are corrected, and only to a word of the corpus within edit distance 1
(words of 4-5 letters) or 2 (longer). So exact matches are never altered, and an off-topic word
such as 'weather' or 'tesla' is left alone instead of being bent into a corpus word.
"""

from __future__ import annotations

import functools
import importlib.resources
import re
from collections import Counter

from symspellpy import SymSpell, Verbosity

_WORD = re.compile(r"[a-z]+")
MIN_LENGTH = 4


@functools.cache
def english_words() -> frozenset[str]:
    path = importlib.resources.files("symspellpy") / "frequency_dictionary_en_82_765.txt"
    return frozenset(line.split(" ", 1)[0] for line in path.read_text(encoding="utf-8").splitlines())


class SpellFixer:
    def __init__(self, corpus_texts: list[str]):
        counts = Counter(w for text in corpus_texts for w in _WORD.findall(text.lower()))
        self.known = frozenset(counts)
        self._symspell = SymSpell(max_dictionary_edit_distance=2, prefix_length=7)
        for word, count in counts.items():
            if len(word) >= MIN_LENGTH - 1:
                self._symspell.create_dictionary_entry(word, count)

    def correct_word(self, word: str) -> str:
        lower = word.lower()
        if len(lower) < MIN_LENGTH or lower in self.known or lower in english_words():
            return word
        distance = 1 if len(lower) <= 5 else 2
        found = self._symspell.lookup(lower, Verbosity.TOP, max_edit_distance=distance)
        return found[0].term if found else word

    def correct(self, query: str) -> str:
        """The query with each unknown Latin word replaced by its nearest corpus word, if any."""
        return re.sub(r"[A-Za-z]+", lambda m: self.correct_word(m.group(0)), query)
