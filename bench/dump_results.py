"""Every result of every question of the default eval sets, as text, to diff a change that must not
move any: hit ids, scores (6 places), confidences, sub-results, facets, the corrected question and
the answer text, in each mode, and once more with the first known filter label. Usage:

    python bench/dump_results.py --index /tmp/index > before.txt   # then change, rerun, diff
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from index import Embedder, open_searcher  # noqa: E402
from index.evaluate import DEFAULT_QUESTION_FILES, MODES, load_questions  # noqa: E402


def dump(result) -> list[str]:
    lines = [f"  corrected={result.corrected!r} lang={result.lang} facets={sorted(result.facets.items())}"]
    for h in result.hits:
        more = ",".join(c.id for c in h.more)
        lines.append(
            f"  {h.chunk.id} target={h.chunk.target} score={h.score:.6f} dense={h.dense:.6f} "
            f"lexical={h.lexical:.6f} conf={h.confidence:.6f} ans={h.answer_score:.6f} weak={h.weak} "
            f"lang={h.lang} twins={h.twins} more=[{more}]"
        )
    a = result.answer
    lines.append(f"  answer={a.text!r} result={a.result} score={a.score:.6f}" if a else "  answer=None")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=Path(".beacon/index"))
    parser.add_argument("--k", type=int, default=10)
    args = parser.parse_args()
    searcher = open_searcher(args.index, Embedder())
    tag = sorted(searcher.labels)[:1]
    for path in DEFAULT_QUESTION_FILES:
        for q in load_questions(path):
            for mode in MODES:
                print(f"{path.name} {mode} {q.q!r}")
                print("\n".join(dump(searcher.search(q.q, args.k, mode))))
            if tag:
                print(f"{path.name} tag={tag[0]} {q.q!r}")
                print("\n".join(dump(searcher.search(q.q, 5, tags=frozenset(tag)))))


if __name__ == "__main__":
    main()
