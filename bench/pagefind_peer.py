"""Pagefind, the usual search for static sites, beside Beacon on the same HTML and the same questions.

    PYTHONPATH=. python bench/pagefind_peer.py --html /usr/share/doc/python3.11/html \\
        --site examples/python-docs.toml --index /tmp/pydocs-index --questions bench/eval/python-docs.yaml \\
        --questions bench/eval/python-docs-holdout.yaml

Pagefind (npm `pagefind`, from ./node_modules after `make node`) indexes a copy of the HTML pages
that Beacon's site file keeps (--site, default examples/python-docs.toml: no index, search or source
pages; its include globs for a slice); the copy and its `pagefind/` bundle are served on 127.0.0.1
and every question goes through
Pagefind's own JS API (`pagefind.search(q)`, `result.data()`) in the real browser (Debian's
chromium via Playwright). Beacon's three modes are measured on the given index in the same run.
Both are scored by index.evaluate.score: a result's page is its document id (path without .html).
Pagefind has no notion of "no answer": a question counts as declined when it returns no result.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from index.evaluate import Question, Scores, as_dict, load_questions, score  # noqa: E402  (after the sys.path line: bench scripts run from a checkout)
from tests.helpers import CHROMIUM, CHROMIUM_ARGS  # noqa: E402  (the test suite's Debian chromium and its flags)

PAGEFIND = ROOT / "node_modules" / ".bin" / "pagefind"
# Sphinx puts the page's text in <div class="body" role="main">; the rest is navigation and sidebars.
# Pagefind's documented way to pick that without editing the pages is --root-selector; the "¶"
# permalink after every heading is left out with --exclude-selectors. Nothing else is tuned.
ROOT_SELECTOR = "[role=main]"
EXCLUDE_SELECTORS = "a.headerlink"


def copy_site(src: Path, dst: Path, keep) -> int:
    """Copies the HTML pages (only: Pagefind reads nothing else) for which keep(relative path) is
    true, so Pagefind sees the pages Beacon indexed; returns how many."""
    count = 0
    for path in sorted(src.rglob("*")):
        relative = path.relative_to(src).as_posix()
        if path.suffix not in (".html", ".htm") or not path.is_file() or not keep(relative):
            continue
        target = dst / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        count += 1
    return count


def build_pagefind(site: Path, root_selector: str = ROOT_SELECTOR) -> float:
    """Pagefind's index of the pages under `site`; `root_selector` picks each page's text (a theme's own)."""
    if not PAGEFIND.exists():
        sys.exit(f"{PAGEFIND} not found (hint: run `make node` first)")
    start = time.perf_counter()
    subprocess.run(
        [
            str(PAGEFIND),
            "--site",
            str(site),
            "--output-path",
            str(site / "pagefind"),
            "--root-selector",
            root_selector,
            "--exclude-selectors",
            EXCLUDE_SELECTORS,
            "--quiet",
        ],
        check=True,
    )
    return time.perf_counter() - start


def doc_id(url: str) -> str:
    """A Pagefind result URL (/faq/programming.html, /tutorial/) as Beacon's document id."""
    path = url.split("#")[0].split("?")[0].lstrip("/")
    if path == "" or path.endswith("/"):
        path += "index"
    for ext in (".html", ".htm"):
        path = path.removesuffix(ext)
    return path


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


SEARCH_JS = """async (q) => {
  window.pf = window.pf || await import('/pagefind/pagefind.js');
  const found = await window.pf.search(q);
  const top = await Promise.all(found.results.slice(0, 10).map(r => r.data()));
  return {count: found.results.length, urls: top.map(d => d.url)};
}"""


def pagefind_outcomes(site: Path, question_sets: dict[str, list[Question]]) -> dict[str, list]:
    """For each set, each question's ranked doc ids from Pagefind in chromium, and whether it returned any."""
    from playwright.sync_api import sync_playwright

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{server.server_address[1]}/index.html")
            out = {}
            for name, questions in question_sets.items():
                out[name] = []
                for question in questions:
                    found = page.evaluate(SEARCH_JS, question.q)
                    ranking = list(dict.fromkeys(doc_id(u) for u in found["urls"]))
                    out[name].append((ranking, found["count"] > 0))
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    return out


def table(name: str, rows: list[Scores], empty: dict[str, str]) -> str:
    first = rows[0]
    lines = [
        f"{name} ({first.questions} questions, {first.answerable} answerable)",
        f"{'system':<16} {'hit@1':>6} {'hit@3':>6} {'MRR@10':>7} {'noans P':>8} {'noans R':>8} {'no result (ans/noans)':>22}",
    ]
    for s in rows:
        lines.append(
            f"{s.mode:<16} {s.hit1:>6.3f} {s.hit3:>6.3f} {s.mrr10:>7.3f} "
            f"{s.no_answer_precision:>8.3f} {s.no_answer_recall:>8.3f} {empty.get(s.mode, ''):>22}"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--html",
        type=Path,
        default=Path("/usr/share/doc/python3.11/html"),
        help="the built site (default: Debian's python3-doc)",
    )
    parser.add_argument("--index", type=Path, required=True, help="Beacon index built from the same HTML")
    parser.add_argument("--questions", type=Path, action="append", required=True, help="question set (repeatable)")
    parser.add_argument(
        "--site",
        type=Path,
        default=ROOT / "examples" / "python-docs.toml",
        help="Beacon's site file for the HTML: its include/exclude globs pick the pages "
        "Pagefind indexes too (default: examples/python-docs.toml)",
    )
    parser.add_argument("--model", default=None, help="Beacon's model, as the index was built with")
    parser.add_argument("--json", type=Path, default=None, help="also write the scores (with misses) here")
    args = parser.parse_args()
    from ingest.site import load_site

    site = load_site(args.html, args.site)
    sets = {str(f): load_questions(f) for f in args.questions}

    from index import Embedder, open_searcher
    from index.evaluate import evaluate_modes, in_index

    searcher = open_searcher(args.index, Embedder(args.model) if args.model else Embedder(threads=0))
    # Questions whose pages the index lacks are left out for both systems, as `beacon eval` does.
    sets = {name: in_index(searcher, qs)[0] for name, qs in sets.items()}
    beacon = {name: evaluate_modes(searcher, qs) for name, qs in sets.items()}

    with tempfile.TemporaryDirectory(prefix="pagefind-site-") as tmp:
        site_copy = Path(tmp)
        pages = copy_site(args.html, site_copy, site.included)
        seconds = build_pagefind(site_copy)
        bundle = sum(f.stat().st_size for f in (site_copy / "pagefind").rglob("*") if f.is_file())
        print(
            f"Pagefind indexed {pages} pages in {seconds:.1f}s ({bundle / 1e6:.1f} MB bundle); "
            f"root selector {ROOT_SELECTOR!r}, excluded {EXCLUDE_SELECTORS!r}\n"
        )
        outcomes = pagefind_outcomes(site_copy, sets)

    report = {}
    for name, questions in sets.items():
        peer = score("pagefind", questions, outcomes[name])
        rows = [dataclasses.replace(s, mode=f"beacon {s.mode}") for s in beacon[name]]
        # Questions with no result at all: answerable ones (a miss) / no-answer ones (declined).
        empty_answerable = sum(1 for q, (_, found) in zip(questions, outcomes[name]) if q.expect and not found)
        empty_other = sum(1 for q, (_, found) in zip(questions, outcomes[name]) if not q.expect and not found)
        empty = {"pagefind": f"{empty_answerable}/{empty_other}"}
        print(table(name, rows + [peer], empty) + "\n")
        report[name] = {s.mode: as_dict(s, True) for s in rows + [peer]}
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
