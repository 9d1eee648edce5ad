"""Build speed against its limit and its peers, in one run on the same passages of a site nobody here wrote.

python bench/build_speed.py [--site PATH] [--skip-txtai]

The site is the Rust book from the rust toolchain's docs (~/.rustup/toolchains/*/share/doc/rust/html/book),
else the tutorial of Python's docs (/usr/share/doc/python3.11/html/tutorial). In order, on the same
passages (those Beacon's build cut from the site):

1. Beacon's whole build from an empty index and cache (reading, chunking, embedding, saving);
2. Beacon's encoder alone over the passages (ONNX fp32, all cores, length-sorted): the limit a build can reach;
3. a plain sentence-transformers encode of them (torch fp32, its default threads, batch 32): the naive way;
4. txtai 9 indexing them (Embeddings with the same local model, hybrid dense + BM25, as bench/txtai_app.py);
   txtai is given the passages' text, so reading and chunking the HTML is not in its time;
5. Beacon's rebuild after a one-page edit, and with nothing changed.

Each of rows 1-4 runs in a process of its own, as `beacon build` does, timed after its model is loaded.
On a shared machine absolute times swing with the other jobs; the ratios between rows of one run
are the figures to quote.
"""

from __future__ import annotations

import argparse
import glob
import importlib.util
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from index import Embedder, build_index  # noqa: E402
from index.embedder import resolve_model  # noqa: E402
from index.publish import current_dir  # noqa: E402
from index.store import CHUNKS, chunk_from_dict  # noqa: E402
from ingest import load_site  # noqa: E402

# mdBook pages: the chapters and appendices. The other top-level pages of the Rust book folder are
# redirect stubs left from its first edition, and print.html repeats every chapter on one page.
RUST_BOOK_SITE = """\
name = "The Rust Programming Language"
base_url = "https://doc.rust-lang.org/book/"
lang = "en"
include = ["ch*.html", "appendix-*.html"]
on_error = "skip"
"""
PYTHON_TUTORIAL_SITE = """\
name = "Python tutorial"
base_url = "https://docs.python.org/3.11/"
lang = "en"
include = ["tutorial/*.html"]
on_error = "skip"
"""


def find_site() -> tuple[Path, str]:
    books = sorted(glob.glob(os.path.expanduser("~/.rustup/toolchains/*/share/doc/rust/html/book")))
    if books:
        return Path(books[0]), RUST_BOOK_SITE
    return Path("/usr/share/doc/python3.11/html"), PYTHON_TUTORIAL_SITE


def timed(fn):
    """fn's result, its wall seconds and the CPU seconds this process spent on it (all threads). On a
    shared box the wall time swings with other jobs; CPU time much less, so ratios use both."""
    started, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - started, time.process_time() - cpu


def cpu_model() -> str:
    try:
        lines = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):
        return platform.processor()
    fields = dict(line.split(":", 1) for line in lines if ":" in line)
    return f"{fields.get('Model name', '?').strip()}, {fields.get('CPU(s)', '?').strip()} CPUs"


def warm_embedder() -> Embedder:
    """The embedder `beacon build` uses, its first inference done, so no timing includes it."""
    embedder = Embedder(backend="onnx", threads=0)
    embedder.encode(["warm up the model"])
    return embedder


def run_row(row: str, work: Path) -> None:
    """One timed row, in this (fresh) process: load what it needs, then time only the work. Prints one
    JSON line: {"seconds", "cpu", ...}."""
    out: dict = {}
    if row == "build":
        embedder = warm_embedder()
        site = load_site(work / "site", work / "site.toml")
        report, seconds, cpu = timed(lambda: build_index(work / "site", work / "index", embedder, site=site))
        out = {"documents": report.documents, "chunks": report.chunks, "texts": report.embedded + report.extra_texts}
    else:
        texts = json.loads((work / "texts.json").read_text(encoding="utf-8"))
        if row == "encoder":
            embedder = warm_embedder()
            _, seconds, cpu = timed(lambda: embedder.encode(texts))
        elif row == "st":
            from sentence_transformers import SentenceTransformer

            model = SentenceTransformer(resolve_model("all-MiniLM-L6-v2")[0], device="cpu")
            model.encode(["warm up"])
            _, seconds, cpu = timed(lambda: model.encode(texts, batch_size=32, normalize_embeddings=True))
        else:
            from txtai import Embeddings

            embeddings = Embeddings(path=resolve_model("all-MiniLM-L6-v2")[0], hybrid=True, content=False)
            _, seconds, cpu = timed(lambda: embeddings.index([(i, t, None) for i, t in enumerate(texts)]))
    print(json.dumps({"seconds": seconds, "cpu": cpu, **out}), flush=True)


def fresh(row: str, work: Path) -> dict:
    """A row run in a process of its own. In one process the first long encode ran ~10% slower than
    the next (80 against 70 s for the Rust book's encodes, two builds in a row), so whichever row came
    first lost; a build is a fresh process (`beacon build`), and so is each row here."""
    done = subprocess.run([sys.executable, __file__, "--row", row, "--work", str(work)], capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"the {row} row failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--site", type=Path, help="an HTML site folder (default: the Rust book, else Python's tutorial)"
    )
    parser.add_argument(
        "--pages",
        action="append",
        help="only pages matching this glob (repeatable), e.g. 'ch0[1-4]*.html' for a shorter run on a busy box",
    )
    parser.add_argument("--skip-txtai", action="store_true")
    parser.add_argument("--row", choices=("build", "encoder", "st", "txtai"), help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.row:
        run_row(args.row, args.work)
        return
    site_dir, settings = (args.site, RUST_BOOK_SITE) if args.site else find_site()
    load = os.getloadavg()
    print(f"box: {cpu_model()}; load average {load[0]:.2f} at start", flush=True)
    print(f"site: {site_dir}", flush=True)

    rows: list[tuple[str, float, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if args.pages:
            settings = re.sub(r"(?m)^include = .*$", "include = " + json.dumps(args.pages), settings)
        (work / "site.toml").write_text(settings, encoding="utf-8")
        corpus, index = work / "site", work / "index"
        shutil.copytree(site_dir, corpus)

        built = fresh("build", work)
        n = built["chunks"]
        texts_per_passage = built["texts"] / max(n, 1)
        print(
            f"Beacon build: {built['documents']} pages, {n} passages, {built['texts']} texts "
            f"embedded ({texts_per_passage:.3f} per passage) in {built['seconds']:.1f} s",
            flush=True,
        )
        rows.append(("Beacon's whole build (read, chunk, embed, save)", built["seconds"], built["cpu"]))
        import orjson

        chunks = [chunk_from_dict(d) for d in orjson.loads((current_dir(index) / CHUNKS).read_bytes())]
        (work / "texts.json").write_text(json.dumps([c.embedding_text() for c in chunks]), encoding="utf-8")

        peers = [
            ("encoder", "Beacon's encoder alone (ONNX fp32, all cores): the limit"),
            ("st", "plain sentence-transformers encode (torch fp32)"),
        ]
        if not args.skip_txtai:
            if importlib.util.find_spec("txtai") is None:
                print("txtai is not installed (pip install -e '.[bench]'); its row is left out", flush=True)
            else:
                peers.append(("txtai", "txtai 9 index of the same passages (hybrid, same model)"))
        for row, label in peers:
            got = fresh(row, work)
            print(f"{label}: {got['seconds']:.1f} s", flush=True)
            rows.append((label, got["seconds"], got["cpu"]))

        embedder = warm_embedder()
        site = load_site(corpus, work / "site.toml")
        page = next(corpus.glob(chunks[len(chunks) // 2].doc_id + ".*"))
        page.write_text(
            page.read_text(encoding="utf-8").replace("</main>", "<p>One more sentence added by the bench.</p></main>"),
            encoding="utf-8",
        )
        edit, edit_seconds, _ = timed(lambda: build_index(corpus, index, embedder, site=site))
        same, same_seconds, _ = timed(lambda: build_index(corpus, index, embedder, site=site))

    limit, limit_cpu = rows[1][1], rows[1][2]
    print(
        f"\n{n} passages of {site_dir}; {cpu_model()}; load average at start {load[0]:.2f}; each row a fresh process\n"
    )
    print("| | wall s | CPU s | passages/s (wall) | x the encoder alone (wall / CPU) |\n|---|---|---|---|---|")
    for label, seconds, cpu in rows:
        print(
            f"| {label} | {seconds:.1f} | {cpu:.1f} | {n / seconds:.1f} | {seconds / limit:.2f} / {cpu / limit_cpu:.2f} |"
        )
    build, build_cpu = rows[0][1], rows[0][2]
    print(f"\ntexts embedded per passage: {texts_per_passage:.3f}")
    for label, seconds, cpu in rows[2:]:
        print(f"Beacon's build is {seconds / build:.2f}x (wall) / {cpu / build_cpu:.2f}x (CPU) as fast as: {label}")
    print(
        f"rebuild after editing {page.relative_to(corpus)}: {edit_seconds:.2f} s ({edit.embedded} embedded, "
        f"{edit.reused} from cache); nothing changed: {same_seconds:.2f} s"
    )


if __name__ == "__main__":
    main()
