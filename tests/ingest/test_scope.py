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
