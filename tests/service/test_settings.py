"""Settings defaults that index/ owns are the same numbers here (one source, checked)."""

from __future__ import annotations

from typing import get_args

from index import answer, build, embedder, fusion
from service.settings import Settings


def test_settings_defaults_are_the_index_packages_own():
    fields = Settings.model_fields
    assert get_args(fields["encoder"].annotation) == embedder.BACKENDS
    assert fields["model"].default == embedder.DEFAULT_MODEL
    assert fields["min_answer_score"].default == answer.MIN_ANSWER_SCORE
    assert fields["keep_versions"].default == build.KEEP_VERSIONS
    # The weights' defaults are resolved in index/ (None here); what --help says of them must match.
    assert fields["dense_weight"].description.endswith(f"else {fusion.DENSE_WEIGHT}].")
    assert fields["lexical_weight"].description.endswith(f"else {fusion.LEXICAL_WEIGHT}].")


def test_fusion_weights_are_unset_by_default_so_the_site_file_can_give_them(monkeypatch):
    monkeypatch.delenv("BEACON_DENSE_WEIGHT", raising=False)
    monkeypatch.delenv("BEACON_LEXICAL_WEIGHT", raising=False)
    search = Settings().search_settings()
    assert (search.dense_weight, search.lexical_weight) == (None, None)  # index/search.py resolves them


def test_search_settings_carry_the_settings(tmp_path):
    s = Settings(index_dir=tmp_path, min_answer_score=0.7, dense_weight=2.0, lexical_weight=0.5)
    search = s.search_settings()
    assert (search.min_answer_score, search.dense_weight, search.lexical_weight) == (0.7, 2.0, 0.5)


def test_workers_get_serves_settings_as_one_json_value(tmp_path):
    from service.settings import WORKER_SETTINGS, settings_for_workers, settings_from_workers_env

    given = Settings(
        index_dir=tmp_path,
        cors_origins=["https://a.example", "https://b.example"],
        trusted_proxies=["10.0.0.0/8"],
        admin_token="A-good-token-0123456789abcdef",
        max_k=7,
    )
    again = settings_from_workers_env({WORKER_SETTINGS: settings_for_workers(given)})
    assert again == given
    assert again.admin_token.get_secret_value() == "A-good-token-0123456789abcdef"
