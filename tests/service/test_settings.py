"""Settings defaults that index/ owns are the same numbers here (one source, checked)."""

from __future__ import annotations

from typing import get_args

from index import answer, build, embedder
from service.settings import Settings


def test_settings_defaults_are_the_index_packages_own():
    fields = Settings.model_fields
    assert get_args(fields["encoder"].annotation) == embedder.BACKENDS
    assert fields["model"].default == embedder.DEFAULT_MODEL
    assert fields["min_answer_score"].default == answer.ANSWER_THRESHOLD
    assert fields["keep_versions"].default == build.KEEP_VERSIONS


def test_search_settings_carry_the_settings(tmp_path):
    s = Settings(index_dir=tmp_path, min_answer_score=0.7, dense_weight=2.0, lexical_weight=0.5)
    search = s.search_settings()
    assert (search.min_answer_confidence, search.dense_weight, search.lexical_weight) == (0.7, 2.0, 0.5)
