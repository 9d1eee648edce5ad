"""What a search costs beyond its query encoder, in process: each distinct question of bench/eval/*.yaml
searched once (default settings, one encoder thread), timing the whole Searcher.search and the
encode_query inside it. Usage:

    python bench/search_overhead.py [--index .beacon/index] [--profile]   # --profile: cProfile's top rows
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import sys
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ROOT = Path(__file__).resolve().parent.parent


def eval_questions() -> list[str]:
    """Every question of every eval set, once each (other sites' questions too: distinct text)."""
    out: dict[str, None] = {}
    for path in sorted((ROOT / "bench" / "eval").glob("*.yaml")):
        for item in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            out[str(item["q"])] = None
    return list(out)


def measure(searcher, texts: list[str]) -> tuple[list[float], list[float]]:
    """Per question: the whole search (ms), and the encoder's share of it (ms)."""
    embedder = searcher.embedder
    encode = embedder.encode_query
    spent: list[float] = []

    def timed(text):
        started = time.perf_counter()
        try:
            return encode(text)
        finally:
            spent.append(time.perf_counter() - started)

    embedder.encode_query = timed
    try:
        totals, encodes = [], []
        for text in texts:
            spent.clear()
            started = time.perf_counter()
            searcher.search(text)
            totals.append((time.perf_counter() - started) * 1000)
            encodes.append(sum(spent) * 1000)
    finally:
        del embedder.encode_query
    return totals, encodes


def open_default(index: Path):
    from index import Embedder, open_searcher

    return open_searcher(index, Embedder(threads=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=ROOT / ".beacon" / "index")
    parser.add_argument(
        "--rounds", type=int, default=1, help="Ask every question this many times (distinct text each time)."
    )
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    searcher = open_default(args.index)
    base = eval_questions()
    texts = [f"{q} {r}" if r else q for r in range(args.rounds) for q in base]
    for q in base[:20]:  # warm: first-use caches (jieba, the LRU of sentence words is per question anyway)
        searcher.search(q + " warm")
    if args.profile:
        profile = cProfile.Profile()
        profile.enable()
        measure(searcher, texts)
        profile.disable()
        pstats.Stats(profile).sort_stats("cumulative").print_stats(45)
        pstats.Stats(profile).sort_stats("tottime").print_stats(30)
    totals, encodes = measure(searcher, texts)
    beyond = [t - e for t, e in zip(totals, encodes)]
    print(
        f"{len(texts)} distinct questions: search median {statistics.median(totals):.2f} ms, "
        f"encode_query median {statistics.median(encodes):.2f} ms, beyond the encoder median "
        f"{statistics.median(beyond):.3f} ms (p90 {statistics.quantiles(beyond, n=10)[-1]:.3f} ms)"
    )


if __name__ == "__main__":
    main()
