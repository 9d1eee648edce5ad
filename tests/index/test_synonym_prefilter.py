"""SynonymExpander looks only at the groups a question can mention (by its terms' leading runs and
first characters), and finds exactly the groups that testing every term of every group finds."""

from __future__ import annotations

import random
from pathlib import Path

import yaml

from index.expansion import SynonymExpander, _normalise
from ingest.synonyms import load_synonyms

ROOT = Path(__file__).resolve().parents[2]


def every_group(expander: SynonymExpander, query: str) -> list[tuple[list[str], list[str]]]:
    """The matching as it was before the prefilter: every term of every group tested."""
    text = _normalise(query)
    found = []
    for group, patterns in expander.groups:
        present = [term in text and bool(p.search(text)) for term, p in patterns]
        if any(present):
            found.append(([t for t, h in zip(group, present) if h], [t for t, h in zip(group, present) if not h]))
    return found


def test_the_prefilter_finds_what_testing_every_group_finds():
    groups = load_synonyms(ROOT / "corpus") + [["(weird", "c++"], ["", "x"], ["Ｒａｉ", "ﾃｽﾄ"], ["é-sign", "ok"]]
    expander = SynonymExpander(groups)
    questions = [
        str(item["q"])
        for path in sorted((ROOT / "bench" / "eval").glob("*.yaml"))
        for item in yaml.safe_load(path.read_text("utf-8"))
    ]
    terms = [t for g in groups for t in g]
    rng = random.Random(3)
    # Questions as asked, and made of the synonyms themselves glued to neighbours in every way.
    questions += [
        rng.choice(["", "x", "my ", "1", "-", "我的"]).join(rng.sample(terms, 3)) + rng.choice(["", "s", " ok", "2"])
        for _ in range(3000)
    ]
    matched = 0
    for q in questions:
        expected = every_group(expander, q)
        assert expander._matches(q) == expected, q
        matched += bool(expected)
    assert matched > 1000  # the comparison covered many matching questions, not only misses
