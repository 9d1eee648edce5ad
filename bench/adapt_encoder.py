"""An encoder adapted to each site from its own text, beside the default one (issue 27; a measurement,
not part of the product).

    PYTHONPATH=. python bench/adapt_encoder.py --site git-docs --site django-docs --site rust-book
    PYTHONPATH=. python bench/adapt_encoder.py --site git-docs --sets fresh5   # only the *-fresh5 sets

No site has labelled questions, so the training pairs are made from the passages Beacon built: one
sentence of a passage with the rest of it ("inverse cloze"), and a passage's title and heading with
its text. all-MiniLM-L6-v2 is fine-tuned on them for one epoch (in-batch negatives: each question's
own passage against the batch's other passages, those of the same page not counted as negatives;
AdamW, learning rate 2e-5, batch 32, seed 0). The recipe was fixed on the Python slice and Git's
development sets and is not tuned per site. The adapted model is saved under
--index-root/adapted/<site>/model (kept and reused: fine-tuning costs 5-10x the site's build on two
cores), the site is built with it into --index-root/adapted/<site>/index, and every question set of
the site (bench/sites.py's, plus *-fresh5.yaml where there is one) is answered by both in hybrid
mode with Beacon's default settings. Printed per set: hit@1 / hit@3 / MRR@10 of each, then the
adapted encoder's MRR@10 minus the default's over the chosen sets, with its paired-bootstrap interval.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import random
import re
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from sites import EVAL, SITES, table, use_site_files  # noqa: E402  (bench/ is on the path above)

from index.evaluate import in_index, load_questions, outcomes, paired_bootstrap, reciprocal_ranks, score  # noqa: E402

EPOCHS, LEARNING_RATE, BATCH, SCALE, SEED = 1, 2e-5, 32, 20.0, 0
# The sentence split the measured models were trained with (docs/quality.md); kept rather than
# ingest.text's so that a rerun reproduces them.
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z`\"'(])")


def training_pairs(chunks, rng: random.Random) -> list[tuple[str, str, str]]:
    """(question-like text, passage, page) pairs from the site's own passages, no labels."""
    pairs = []
    for c in chunks:
        sentences = [s.strip() for s in SENTENCE_END.split(c.text.replace("\n", " ")) if len(s.split()) >= 4]
        if len(sentences) >= 2:
            i = rng.randrange(len(sentences))
            rest = dataclasses.replace(c, text=" ".join(sentences[:i] + sentences[i + 1 :]))
            pairs.append((sentences[i], rest.embedding_text(), c.doc_id))
        if c.text.strip():
            pairs.append((c.embedding_head, c.text, c.doc_id))
    return pairs


def fine_tune(chunks, out: Path) -> None:
    """Fine-tune the bundled all-MiniLM-L6-v2 on the site's pairs and save it as a sentence-transformers folder."""
    import torch
    from sentence_transformers import SentenceTransformer

    from index.embedder import resolve_model

    torch.manual_seed(SEED)
    rng = random.Random(SEED)
    pairs = training_pairs(chunks, rng)
    model = SentenceTransformer(resolve_model("all-MiniLM-L6-v2")[0], device="cpu")
    model.train()
    steps = EPOCHS * (len(pairs) // BATCH)
    optimiser = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE)
    warmup = max(1, steps // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min(1.0, (s + 1) / warmup) * max(0.0, 1 - s / max(1, steps))
    )

    def embed(texts):
        return torch.nn.functional.normalize(model(model.tokenize(texts))["sentence_embedding"], dim=-1)

    started = time.perf_counter()
    for _ in range(EPOCHS):
        rng.shuffle(pairs)
        for b in range(0, len(pairs) - BATCH + 1, BATCH):
            batch = pairs[b : b + BATCH]
            similarity = embed([p[0] for p in batch]) @ embed([p[1] for p in batch]).T * SCALE
            pages = [p[2] for p in batch]
            same_page = torch.tensor([[i != j and pages[i] == pages[j] for j in range(BATCH)] for i in range(BATCH)])
            loss = torch.nn.functional.cross_entropy(similarity.masked_fill(same_page, -1e4), torch.arange(BATCH))
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
    model.eval()
    model.save(str(out))
    print(f"   fine-tuned on {len(pairs)} pairs ({steps} steps) in {time.perf_counter() - started:.0f}s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", action="append", choices=sorted(SITES), required=True, help="repeatable")
    parser.add_argument("--index-root", type=Path, default=ROOT / ".beacon" / "sites", help="as bench/sites.py's")
    parser.add_argument("--sets", default="", help="only the sets whose name ends with this (e.g. fresh5)")
    parser.add_argument("--site-file", action="append", default=[], metavar="SITE=PATH", help="as bench/sites.py's")
    args = parser.parse_args()
    use_site_files(args.site_file)
    from index import Embedder, build_index, open_searcher
    from ingest.site import load_site

    default = Embedder(threads=0)
    diffs = []
    for name in args.site:
        case = SITES[name]
        site = load_site(case.html, case.site_file)
        files = [*case.questions, EVAL / f"{name}-fresh5.yaml"]
        files = [f for f in files if f.is_file() and f.stem.endswith(args.sets)]
        build_index(case.html, args.index_root / name, default, site=site)
        base = open_searcher(args.index_root / name, default)
        folder = args.index_root / "adapted" / name
        if not (folder / "model" / "config.json").is_file():
            fine_tune(base.stored.chunks, folder / "model")
        adapted_encoder = Embedder(str(folder / "model"), threads=0)
        build_index(case.html, folder / "index", adapted_encoder, site=site)
        adapted = open_searcher(folder / "index", adapted_encoder)
        print(f"\n== {name}", flush=True)
        for path in files:
            questions = in_index(base, load_questions(path))[0]
            found = {label: outcomes(s, questions, "hybrid") for label, s in (("default", base), ("adapted", adapted))}
            print(table(path.stem, [score(label, questions, o) for label, o in found.items()]), flush=True)
            ranks = {label: reciprocal_ranks(questions, o) for label, o in found.items()}
            diffs.append((ranks["adapted"], ranks["default"]))
    adapted_ranks = [r for a, _ in diffs for r in a]
    default_ranks = [r for _, b in diffs for r in b]
    mean, low, high = paired_bootstrap(adapted_ranks, default_ranks)
    print(
        f"\nadapted - default, MRR@10 over {len(adapted_ranks)} questions of {len(diffs)} sets: {mean:+.3f} "
        f"(95% interval {low:+.3f} to {high:+.3f}); summed over the sets: "
        f"{sum(sum(a) / len(a) - sum(b) / len(b) for a, b in diffs if a):+.3f}"
    )


if __name__ == "__main__":
    main()
