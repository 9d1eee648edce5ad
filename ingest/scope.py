"""The corpus's scope file (corpus/_scope.yaml): what the corpus answers and what it does not.

A question's kind, not only its words, decides whether a passage answers it: a medical question
shares most of its words with a guide to patient communities. The descriptions belong to the
corpus, so another corpus brings its own (or none, and the confidence model then ignores scope).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .errors import CorpusError

SCOPE_FILE = "_scope.yaml"
_KEYS = ("answers", "does_not_answer")
_HINT = (
    "write two lists of short questions or descriptions: 'answers:' (what the corpus covers) "
    "and 'does_not_answer:' (what readers ask that it does not); optionally 'translations:' with "
    "the same two lists per language ('zh: {answers: [...], does_not_answer: [...]}')"
)


@dataclass(frozen=True)
class Scope:
    answers: list[str] = field(default_factory=list)
    does_not_answer: list[str] = field(default_factory=list)
    # The same kinds written in other languages, {language: {"answers": [...], "does_not_answer": [...]}}:
    # the embedding model reads only English, so a question in another language is compared with
    # these by its words instead (index/answer.lexical_scope_score).
    translations: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.answers and self.does_not_answer)

    def translation(self, lang: str) -> Scope:
        """The descriptions in `lang` (an empty Scope when the file has none in that language)."""
        lists = self.translations.get(lang, {})
        return Scope(list(lists.get("answers", [])), list(lists.get("does_not_answer", [])))


def scope_path(corpus_dir: Path) -> Path:
    return Path(corpus_dir) / SCOPE_FILE


def load_scope(corpus_dir: Path) -> Scope:
    """The corpus's scope descriptions, or an empty Scope when it has no scope file."""
    path = scope_path(corpus_dir)
    if not path.is_file():
        return Scope()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        line = getattr(getattr(e, "problem_mark", None), "line", None)
        raise CorpusError(path, line + 1 if line is not None else None, f"cannot read the scope file: {e}", _HINT)
    if not isinstance(data, dict):
        raise CorpusError(path, None, "the scope file must be a mapping with 'answers' and 'does_not_answer'", _HINT)
    answers, does_not_answer = _lists(path, data, "")
    translations = data.get("translations") or {}
    if not isinstance(translations, dict):
        raise CorpusError(path, None, "'translations' must map a language (zh) to its two lists", _HINT)
    return Scope(
        answers,
        does_not_answer,
        {
            str(lang): dict(zip(_KEYS, _lists(path, lists, f"translations: {lang}: ")))
            for lang, lists in translations.items()
        },
    )


def _lists(path: Path, data: object, where: str) -> tuple[list[str], list[str]]:
    """The two lists of one language, each a non-empty list of texts."""
    lists = {key: data.get(key) if isinstance(data, dict) else None for key in _KEYS}
    for key, value in lists.items():
        if not isinstance(value, list) or not value or not all(isinstance(t, str) and t.strip() for t in value):
            raise CorpusError(path, None, f"'{where}{key}' must be a non-empty list of texts", _HINT)
    return [t.strip() for t in lists["answers"]], [t.strip() for t in lists["does_not_answer"]]
