"""Answer sentences from pooled token vectors (one model pass per passage) against separately encoded sentences.

python bench/sentence_vectors.py [--corpus corpus] [--questions FILE ...]

Builds the corpus once, then asks every question of the sets three ways that differ only in the
sentence vectors the answer is chosen with: the stored ones (pooled from the passage's token vectors,
float16), the same in float32, and each sentence encoded on its own (what builds did before). Prints
how often the chosen answer text agrees and every disagreement, for reading.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from index import Embedder, build_index  # noqa: E402
from index.evaluate import DEFAULT_QUESTION_FILES, load_questions  # noqa: E402
from index.search import Searcher, open_searcher  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def with_vectors(searcher: Searcher, vectors: np.ndarray) -> Searcher:
    stored = dataclasses.replace(
        searcher.stored, extras=dataclasses.replace(searcher.stored.extras, sentence_vectors=vectors)
    )
    return Searcher(stored, searcher.embedder, searcher.settings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    parser.add_argument("--index", type=Path, help="an index already built (default: build the corpus)")
    parser.add_argument("--questions", type=Path, action="append")
    args = parser.parse_args()
    embedder = Embedder()
    with tempfile.TemporaryDirectory() as tmp:
        index = args.index
        if index is None:
            index = Path(tmp) / "index"
            build_index(args.corpus, index, embedder)
        pooled = open_searcher(index, embedder)
        extras = pooled.stored.extras
        separate = with_vectors(pooled, embedder.encode(extras.sentence_texts))
        fp32 = with_vectors(pooled, extras.sentence_vectors.astype(np.float32))
        print(
            f"{len(pooled.stored.chunks)} passages, {len(extras.sentence_texts)} sentences; "
            f"cosine pooled vs separate: mean {np.mean(np.sum(fp32.stored.extras.sentence_vectors * separate.stored.extras.sentence_vectors, axis=1)):.3f}"
        )
        files = args.questions or [ROOT / p for p in DEFAULT_QUESTION_FILES if (ROOT / p).is_file()]
        total = answered = same = same_fp32 = 0
        for path in files:
            file_answered = file_same = 0
            for q in load_questions(path):
                a, b, c = (s.search(q.q, 5).answer for s in (pooled, separate, fp32))
                total += 1
                if a is None or b is None:
                    continue
                answered += 1
                file_answered += 1
                same_fp32 += a.text == c.text
                if a.text == b.text:
                    same += 1
                    file_same += 1
                else:
                    print(f"\n[{path.name}] {q.q}  (expect {', '.join(q.expect) or '-'})")
                    print(f"  pooled:   {a.text}")
                    print(f"  separate: {b.text}")
            print(f"{path.name}: {file_same}/{file_answered} answers the same")
        print(
            f"\n{total} questions, {answered} answered: pooled picks the same answer text as separately "
            f"encoded sentences for {same} ({same / max(answered, 1):.1%}); float16 vs float32 pooled: "
            f"{same_fp32}/{answered} the same"
        )


if __name__ == "__main__":
    main()
