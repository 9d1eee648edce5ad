"""Answer quality on a site nobody here wrote: seven pages of Python's documentation (Debian's
python3-doc, installed by `make system`), no _scope.yaml, no synonyms, the tuning questions of
bench/eval/python-docs.yaml that these pages answer, and its off-topic ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import ROOT

PYTHON_DOCS = Path("/usr/share/doc/python3.11/html")
# Small enough to embed in seconds (about 1,300 passages and sentences), yet answering 15 of the
# tuning questions; the holdout set is never used here (it is kept out of all tuning).
PAGES = (
    "faq/design.html",
    "faq/library.html",
    "tutorial/floatingpoint.html",
    "tutorial/venv.html",
    "tutorial/inputoutput.html",
    "tutorial/errors.html",
    "tutorial/stdlib.html",
)
# Measured on this slice (docs/quality.md, section 8): 15 answerable questions and 7 off-topic ones;
# hybrid hit@1 0.867, hit@3 1.0, MRR@10 0.922, no-answer precision and recall 1.0. Set one question
# lower, so that one question moving does not fail CI while a real regression of ranking or of
# declining off-topic questions does.
MIN_HIT1 = 0.78
MIN_HIT3 = 0.92
MIN_MRR = 0.85
MIN_NO_ANSWER_PRECISION = 0.85
MIN_NO_ANSWER_RECALL = 0.85

pytestmark = pytest.mark.skipif(not PYTHON_DOCS.is_dir(), reason="python3-doc is not installed (run `make system`)")


@pytest.fixture(scope="module")
def python_docs_index(tmp_path_factory, embedder) -> Path:
    from index import build_index
    from ingest.site import Site

    site = Site(name="Python docs", base_url="https://docs.python.org/3.11/", include=PAGES)
    index_dir = tmp_path_factory.mktemp("python-docs-index")
    build_index(PYTHON_DOCS, index_dir, embedder, site=site)
    return index_dir


@pytest.fixture(scope="module")
def scores(python_docs_index, embedder):
    from index import open_searcher
    from index.evaluate import evaluate_modes, load_questions

    searcher = open_searcher(python_docs_index, embedder)
    assert searcher.stored.extras.scope is None or not searcher.stored.extras.scope  # no scope file here
    questions = load_questions(ROOT / "bench" / "eval" / "python-docs.yaml")
    return {s.mode: s for s in evaluate_modes(searcher, questions)}


def test_hybrid_ranks_python_docs_pages_and_declines_off_topic_questions(scores):
    hybrid = scores["hybrid"]
    assert hybrid.answerable >= 12 and hybrid.questions - hybrid.answerable >= 7
    assert hybrid.hit1 >= MIN_HIT1, hybrid.misses
    assert hybrid.hit3 >= MIN_HIT3, hybrid.misses
    assert hybrid.mrr10 >= MIN_MRR, hybrid.misses
    assert hybrid.no_answer_precision >= MIN_NO_ANSWER_PRECISION, hybrid.misses
    assert hybrid.no_answer_recall >= MIN_NO_ANSWER_RECALL, hybrid.misses
