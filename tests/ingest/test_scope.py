"""The corpus's scope file: read when present, refused with its name when malformed, optional."""

from __future__ import annotations

import pytest

from ingest import CorpusError
from ingest.scope import load_scope


def test_no_scope_file_means_no_scope(tmp_path):
    assert not load_scope(tmp_path)


def test_scope_file_is_read(tmp_path):
    (tmp_path / "_scope.yaml").write_text(
        "answers:\n  - where to find a support group\ndoes_not_answer:\n  - what dose should I take\n", encoding="utf-8"
    )
    scope = load_scope(tmp_path)
    assert scope and scope.answers == ["where to find a support group"]
    assert scope.does_not_answer == ["what dose should I take"]


@pytest.mark.parametrize(
    "text, line",
    [
        ("answers: [a\n  b: c\n", 2),  # broken YAML: the line is reported
        ("answers:\n  - fine\n", None),  # the other list is missing
        ("answers: []\ndoes_not_answer: [x]\n", None),  # an empty list
        ("- just a list\n", None),  # not a mapping
    ],
)
def test_malformed_scope_file_names_the_file(tmp_path, text, line):
    (tmp_path / "_scope.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(CorpusError) as e:
        load_scope(tmp_path)
    assert e.value.path.endswith("_scope.yaml") and e.value.hint
    if line is not None:
        assert e.value.line == line


def test_scope_file_translations_are_read_per_language(tmp_path):
    (tmp_path / "_scope.yaml").write_text(
        "answers: [where to find a support group]\ndoes_not_answer: [what dose should I take]\n"
        "translations:\n  zh:\n    answers: [去哪里找病友群]\n    does_not_answer: [药该吃多少]\n",
        encoding="utf-8",
    )
    scope = load_scope(tmp_path)
    assert scope.translation("zh").answers == ["去哪里找病友群"]
    assert scope.translation("zh").does_not_answer == ["药该吃多少"]
    assert not scope.translation("fr")  # no descriptions in that language


def test_shipped_scope_file_has_chinese_descriptions_for_every_kind():
    from tests.helpers import DEFAULT_CORPUS

    scope = load_scope(DEFAULT_CORPUS)
    zh = scope.translation("zh")
    assert len(zh.answers) == len(scope.answers) and len(zh.does_not_answer) == len(scope.does_not_answer)


def test_a_translation_missing_a_list_names_it(tmp_path):
    (tmp_path / "_scope.yaml").write_text(
        "answers: [a]\ndoes_not_answer: [b]\ntranslations:\n  zh:\n    answers: [去哪里找病友群]\n", encoding="utf-8"
    )
    with pytest.raises(CorpusError) as e:
        load_scope(tmp_path)
    assert "translations: zh: does_not_answer" in str(e.value) and e.value.hint
