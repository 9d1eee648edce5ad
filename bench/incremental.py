"""Incremental build speed-up: a synthetic corpus of ~3000 chunks, built in full, then rebuilt
after editing one file. Prints both times and the ratio.

    PYTHONPATH=. python bench/incremental.py [--docs 250 --sections 12]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from index import Embedder, build_index  # noqa: E402

WORDS = (
    "patients community hospital doctor surgery recovery iodine thyroid group support diary "
    "questions answers online offline family nurse follow-up scan dose diet sleep worry hope"
).split()


def _sentence(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 16))).capitalize() + "."


def write_corpus(root: Path, docs: int, sections: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    for d in range(docs):
        parts = [f"---\ntitle: Synthetic document {d}\n---\n{_sentence(rng)}\n"]
        for s in range(sections - 1):
            parts.append(f"\n## Section {s} of document {d}\n" + " ".join(_sentence(rng) for _ in range(4)) + "\n")
        path = root / f"group{d % 10}" / f"doc{d}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(parts), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=250)
    parser.add_argument("--sections", type=int, default=12)
    args = parser.parse_args()
    embedder = Embedder()
    with tempfile.TemporaryDirectory() as tmp:
        corpus, index_dir = Path(tmp) / "corpus", Path(tmp) / "index"
        write_corpus(corpus, args.docs, args.sections)
        full = build_index(corpus, index_dir, embedder, progress=True)
        edited = corpus / "group3" / "doc3.md"
        edited.write_text(
            edited.read_text().replace("## Section 2 ", "## Section 2 (revised) ", 1)
            + "\nA new closing paragraph added by a curator.\n",
            encoding="utf-8",
        )
        started = time.perf_counter()
        inc = build_index(corpus, index_dir, embedder, progress=True)
        inc_seconds = time.perf_counter() - started
    print(f"corpus: {full.documents} documents, {full.chunks} chunks")
    print(f"full build:        {full.seconds:7.2f} s  ({full.embedded} chunks embedded)")
    print(
        f"after 1-file edit: {inc_seconds:7.2f} s  ({inc.embedded} embedded, {inc.reused} from cache; "
        f"+{inc.added} ~{inc.changed} -{inc.removed})"
    )
    print(f"speed-up:          {full.seconds / inc_seconds:7.1f}x")


if __name__ == "__main__":
    main()
