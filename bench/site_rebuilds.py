"""Two sites' rebuilds at once against one after the other, in one process on one model, as the admin route
runs them (one background thread per site, docs/sites.md): the ratio of the wall times, per round.

    PYTHONPATH=. python bench/site_rebuilds.py [--sections 300] [--rounds 3]

Above 1: running them together costs more in all than queueing them; about 1: the same work either way, so a
small site's rebuild need not wait behind another site's.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def corpus(root: Path, word: str, sections: int) -> Path:
    body = "".join(
        f"\n## Part {n}\nThe {word} group number {n} meets on day {n} to talk about {word}s.\n" for n in range(sections)
    )
    folder = root / word
    folder.mkdir(parents=True)
    (folder / "notes.md").write_text(f"---\ntitle: {word}\n---\nIntro.\n{body}", encoding="utf-8")
    return folder


def main() -> None:
    from index import Embedder, build_index

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sections", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    embedder = Embedder(threads=0)
    root = Path(tempfile.mkdtemp(prefix="beacon-rebuilds-"))
    sites = [corpus(root, word, args.sections) for word in ("walrus", "heron")]
    build_index(sites[0], root / "warm-up", embedder)  # the model's first run is not part of either
    for n in range(args.rounds):
        started = time.perf_counter()
        for site in sites:
            build_index(site, root / f"{site.name}-apart-{n}", embedder)
        apart = time.perf_counter() - started
        threads = [
            threading.Thread(target=build_index, args=(site, root / f"{site.name}-together-{n}", embedder))
            for site in sites
        ]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        together = time.perf_counter() - started
        print(f"round {n}: one after the other {apart:.1f}s, together {together:.1f}s, ratio {together / apart:.2f}")


if __name__ == "__main__":
    main()
