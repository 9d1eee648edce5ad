"""Building a site: chunks of unchanged documents are reused, and a reused chunk is the same chunk."""

from __future__ import annotations

from index import build_index
from index.publish import current_dir
from index.store import load_version
from ingest import chunk_documents, load_corpus, load_site
from tests.helpers import write_corpus

LONG = " ".join(f"Sentence {i} explains how the garden club waters its roses in dry summers." for i in range(60))


def test_rebuild_reuses_chunks_of_unchanged_documents_and_they_equal_fresh_ones(tmp_path, embedder):
    corpus = write_corpus(
        tmp_path / "site",
        {
            "a.md": f"# Roses\n\n{LONG}\n\n## Pruning\nPrune in late winter.\n",
            "b.html": "<html><body><main><h1>Tomatoes</h1><p>Water them deeply.</p></main></body></html>",
        },
    )
    site = load_site(corpus)
    build_index(corpus, tmp_path / "index", embedder, site=site)
    (corpus / "b.html").write_text(
        "<html><body><main><h1>Tomatoes</h1><p>Water them twice a week.</p></main></body></html>"
    )
    report = build_index(corpus, tmp_path / "index", embedder, site=site)
    assert report.changed == 1 and report.embedded == 1
    stored = load_version(current_dir(tmp_path / "index")).chunks
    fresh = chunk_documents(load_corpus(corpus, site), embedder.max_tokens, embedder.count_tokens)
    assert [(c.id, c.text, c.section, c.links, c.position) for c in stored] == [
        (c.id, c.text, c.section, c.links, c.position) for c in fresh
    ]
    assert len([c for c in stored if c.doc_id == "a"]) > 2  # the long section really was split
