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
_HINT = (
    "write two lists of short questions or descriptions: 'answers:' (what the corpus covers) "
    "and 'does_not_answer:' (what readers ask that it does not)"
)


@dataclass(frozen=True)
class Scope:
    answers: list[str] = field(default_factory=list)
    does_not_answer: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.answers and self.does_not_answer)


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
    lists = {key: data.get(key) if isinstance(data, dict) else None for key in ("answers", "does_not_answer")}
    for key, value in lists.items():
        if not isinstance(value, list) or not value or not all(isinstance(t, str) and t.strip() for t in value):
            raise CorpusError(path, None, f"'{key}' must be a non-empty list of texts", _HINT)
    return Scope([t.strip() for t in lists["answers"]], [t.strip() for t in lists["does_not_answer"]])
