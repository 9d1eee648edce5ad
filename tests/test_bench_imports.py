"""Every bench/ script imports: a renamed function in index/ or ingest/ must fail here, not in `make bench`."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
MODULES = sorted(p.stem for p in BENCH.glob("*.py"))


def test_the_bench_folder_has_its_scripts():
    assert {"common", "build_speed", "run", "naive_app", "txtai_app"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_bench_module_imports(name, monkeypatch):
    # The scripts import each other as top-level modules (uvicorn --app-dir bench), so bench/ goes on the path.
    monkeypatch.syspath_prepend(str(BENCH))
    sys.modules.pop(name, None)
    module = importlib.import_module(name)
    assert module.__file__ == str(BENCH / f"{name}.py")


def test_bench_reads_chunks_as_the_index_stores_them(monkeypatch):
    # The naive and txtai peers embed exactly what Beacon embeds, read from the published chunks.json.
    from index.store import chunk_to_dict
    from ingest.models import Chunk

    monkeypatch.syspath_prepend(str(BENCH))
    common = importlib.import_module("common")
    chunk = Chunk(id="a#b", doc_id="a", title="Title", section="Section", anchor="b", text="Some text.", links=())
    assert common.embedding_text(chunk_to_dict(chunk)) == "Title — Section: Some text."
