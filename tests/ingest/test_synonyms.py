"""The curated synonym file: read when present, refused clearly when malformed."""

from __future__ import annotations

import pytest

from ingest.errors import CorpusError
from ingest.synonyms import load_synonyms


def test_synonym_groups_are_read_and_a_missing_file_means_none(tmp_path):
    assert load_synonyms(tmp_path) == []
    (tmp_path / "_synonyms.yaml").write_text("- [RAI, radioactive iodine, 碘131]\n", encoding="utf-8")
    assert load_synonyms(tmp_path) == [["RAI", "radioactive iodine", "碘131"]]


@pytest.mark.parametrize("text", ["- [lonely]\n", "RAI: radioactive iodine\n", "- [a, b\n"])
def test_malformed_synonym_file_names_the_file(tmp_path, text):
    (tmp_path / "_synonyms.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(CorpusError) as e:
        load_synonyms(tmp_path)
    assert "_synonyms.yaml" in str(e.value) and e.value.hint
