"""BM25 over chunks (bm25s), with English stemming and CJK character bigrams.

Latin words are lower-cased, stop-worded and Snowball-stemmed; runs of Chinese/Japanese/Korean
characters become overlapping bigrams, as Lucene's CJKAnalyzer does, because those scripts have
no spaces and a whole run would otherwise be one unmatchable token.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_EN

from ingest import Chunk

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]+")
_WORD = re.compile(r"[a-z0-9]+(?:['\-][a-z0-9]+)*")
# bm25s's list is Lucene's 33 words; readers type whole sentences ("i'm 2 years past surgery and
# want to give something back"), so pronouns, auxiliaries, contractions and fillers go too: they
# would otherwise dilute both BM25 and the answer-confidence coverage (measured in docs/quality.md).
_FUNCTION_WORDS = """
can could would should shall may might must do does did doing done have has had having am were been
being where how what who whom whose which when why i me my mine myself we us our ours you your yours
he him his she her hers it its they them their theirs this that those these here there about find
get got any some anyone someone something anything everyone each every very really just also too
so than then now still even much many more most other others own same such only please thanks
thank want wants need needs like know tell let lets going go im ive id ill dont cant wont didnt
doesnt isnt arent youre theyre whats thats hes shes s t m ll ve re d from up down out off over
again once all both few while because until against between through during before after above
below into onto upon
""".split()
_STOP = frozenset(STOPWORDS_EN) | frozenset(_FUNCTION_WORDS)
_stemmer = Stemmer.Stemmer("english")


def tokenize(text: str) -> list[str]:
    text = unicodedata.normalize("NFKC", text).lower()
    tokens: list[str] = []
    for run in _CJK.findall(text):
        tokens.extend([run] if len(run) == 1 else [run[i:i + 2] for i in range(len(run) - 1)])
    for word in _WORD.findall(_CJK.sub(" ", text)):
        if word in _STOP:
            continue
        if "-" in word or "'" in word:
            # "i-131" also matches "I131" and "131"; "follow-up" matches "follow up".
            parts = re.split(r"['\-]", word)
            tokens.append("".join(parts))
            tokens.extend(p for p in parts if len(p) > 1 and p not in _STOP)
        else:
            tokens.append(word)
    return _stemmer.stemWords(tokens)


def chunk_text(chunk: Chunk) -> str:
    """What BM25 indexes: the passage plus the names users type for its document."""
    return " ".join([chunk.title, chunk.section, " ".join(chunk.aliases), " ".join(chunk.tags), chunk.text])


class LexicalIndex:
    def __init__(self, bm25: bm25s.BM25, size: int):
        self._bm25 = bm25
        self.size = size

    @classmethod
    def build(cls, chunks: list[Chunk]) -> "LexicalIndex":
        bm25 = bm25s.BM25()
        bm25.index([tokenize(chunk_text(c)) or ["\0"] for c in chunks], show_progress=False)
        return cls(bm25, len(chunks))

    def save(self, directory: Path) -> None:
        self._bm25.save(str(directory), show_progress=False)

    @classmethod
    def load(cls, directory: Path, size: int) -> "LexicalIndex":
        return cls(bm25s.BM25.load(str(directory), mmap=False, show_progress=False), size)

    def vocabulary(self) -> set[str]:
        return set(self._bm25.vocab_dict)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every chunk for the query (0 where no term matches)."""
        tokens = [t for t in tokenize(query) if t in self._bm25.vocab_dict]
        if not tokens:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(tokens), dtype=np.float32)
