"""The curated synonym list (corpus/_synonyms.yaml): groups of words readers use for the same thing."""

from __future__ import annotations

from pathlib import Path

import yaml

from .errors import CorpusError

SYNONYMS_FILE = "_synonyms.yaml"


def synonyms_path(corpus_dir: Path) -> Path:
    return Path(corpus_dir) / SYNONYMS_FILE


def load_synonyms(corpus_dir: Path) -> list[list[str]]:
    """The groups in the corpus's synonym file, or none when it has no such file."""
    path = synonyms_path(corpus_dir)
    if not path.is_file():
        return []
    try:
        groups = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        line = getattr(getattr(e, "problem_mark", None), "line", None)
        raise CorpusError(
            path,
            line + 1 if line is not None else None,
            f"cannot read synonyms: {e}",
            "write one YAML list of words per line, e.g. - [RAI, radioactive iodine, I-131]",
        )
    if not isinstance(groups, list) or not all(isinstance(g, list) and len(g) >= 2 for g in groups):
        raise CorpusError(
            path,
            None,
            "synonyms must be a list of groups of at least two words",
            "write one YAML list of words per line, e.g. - [RAI, radioactive iodine, I-131]",
        )
    return [[str(word).strip() for word in group if str(word).strip()] for group in groups]
