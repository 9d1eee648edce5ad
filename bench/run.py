"""Latency and throughput over HTTP on loopback: Beacon, the naive torch path and txtai, side by side.

Each system runs as a real uvicorn server in a subprocess over the same published chunks; wrk
(C, one thread per 4 connections) replays the eval questions in a loop. Usage:

    python bench/run.py [--index .beacon/index] [--seconds 10] [--quick]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import ROOT, Server, questions  # noqa: E402


def ensure_index(index_dir: Path) -> None:
    from index import Embedder, build_index

    build_index(ROOT / "corpus", index_dir, Embedder(threads=0))


def wrk(url: str, connections: int, seconds: int, lua: Path) -> dict:
    threads = max(1, min(2, connections // 4))
    out = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "--timeout",
            "10s",
            "-s",
            str(lua),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    def ms(label: str) -> float:
        value, unit = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {
        "p50": ms("50%"),
        "p99": ms("99%"),
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "errors": int(bad.group(1)) if bad else 0,
        "socket": errors.group(1) if errors else "",
    }


def quality(url: str, qs: list[dict]) -> dict:
    """hit@1 and MRR@5 by document over the questions that have an expected document."""
    hits, rr, n = 0, 0.0, 0
    with httpx.Client(base_url=url, timeout=60) as client:
        for q in qs:
            if not q.get("expect"):
                continue
            n += 1
            docs = [
                r["id"].split("#")[0] for r in client.get("/api/search", params={"q": q["q"], "k": 5}).json()["results"]
            ]
            if docs[:1] == q["expect"][:1]:
                hits += 1
            rank = next((i for i, d in enumerate(docs) if d in q["expect"]), None)
            rr += 0 if rank is None else 1 / (rank + 1)
    return {"hit@1": hits / n, "mrr@5": rr / n, "n": n}


def lua_script(qs: list[dict], folder: Path) -> Path:
    paths = ",\n".join('"/api/search?k=5&q=' + urllib.parse.quote(q["q"], safe="") + '"' for q in qs)
    script = folder / "questions.lua"
    script.write_text(
        "local paths = {\n" + paths + "\n}\nlocal i = 0\n"
        "function setup(thread) thread:set('offset', math.random(#paths)) end\n"
        "request = function()\n  i = i + 1\n  return wrk.format('GET', paths[(i + (offset or 0)) % #paths + 1])\nend\n"
    )
    return script


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, default=ROOT / ".beacon" / "index")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--quick", action="store_true", help="Beacon default, naive and txtai only")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install wrk (make bench does it)")
    ensure_index(args.index)
    qs = questions()
    beacon = "service.app:create_app_from_env"
    # One loopback client is every "reader" here: the per-client rate limit would turn the load into 429s.
    env = {
        "BEACON_INDEX_DIR": str(args.index.resolve()),
        "BEACON_CORPUS_DIR": str(ROOT / "corpus"),
        "BEACON_RATE_LIMIT_PER_MINUTE": "0",
    }
    bench_env = {"BENCH_INDEX_DIR": str(args.index.resolve())}
    systems = [
        # name, app, env, workers, app_dir, connections
        ("beacon onnx, 2 workers, no cache", beacon, env | {"BEACON_QUERY_CACHE": "0"}, 2, None, (1, 8)),
        ("beacon onnx, 2 workers, cache", beacon, env, 2, None, (1, 8)),
        ("naive torch, 1 worker", "naive_app:create_app", bench_env, 1, "bench", (1, 8)),
        ("txtai hybrid, 1 worker", "txtai_app:create_app", bench_env, 1, "bench", (1, 8)),
    ]
    if not args.quick:
        systems[1:1] = [
            ("beacon onnx, 1 worker, no cache", beacon, env | {"BEACON_QUERY_CACHE": "0"}, 1, None, (1, 8)),
            (
                "beacon onnx-int8, 2 workers, no cache",
                beacon,
                env | {"BEACON_QUERY_CACHE": "0", "BEACON_ENCODER": "onnx-int8"},
                2,
                None,
                (1, 8),
            ),
            (
                "beacon torch, 2 workers, no cache",
                beacon,
                env | {"BEACON_QUERY_CACHE": "0", "BEACON_ENCODER": "torch"},
                2,
                None,
                (1, 8),
            ),
            ("naive torch, 2 workers", "naive_app:create_app", bench_env, 2, "bench", (8,)),
            ("txtai hybrid, 2 workers", "txtai_app:create_app", bench_env, 2, "bench", (8,)),
        ]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        lua = lua_script(qs, Path(tmp))
        for name, app, server_env, workers, app_dir, conns in systems:
            print(f"--- {name}", flush=True)
            with Server(app, server_env, workers, app_dir) as server:
                row = {"name": name, "quality": quality(server.url, qs)}
                for c in conns:
                    row[c] = wrk(server.url, c, args.seconds, lua)
                    print(f"    {c} conn: {row[c]}", flush=True)
                print(f"    quality: {row['quality']}", flush=True)
                rows.append(row)
            time.sleep(1)
    print_table(rows)


def print_table(rows: list[dict]) -> None:
    naive = next(r for r in rows if r["name"].startswith("naive torch, 1"))
    print(
        "\n| system | p50 ms (1 conn) | p99 ms (1 conn) | req/s (1 conn) | p50 ms (8 conn) | p99 ms (8 conn) "
        "| req/s (8 conn) | x naive req/s (8 conn) | hit@1 | MRR@5 | errors |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        one, eight = r.get(1), r.get(8)
        cells = [r["name"]]
        cells += [f"{one['p50']:.1f}", f"{one['p99']:.1f}", f"{one['rps']:.0f}"] if one else ["-"] * 3
        cells += (
            [
                f"{eight['p50']:.1f}",
                f"{eight['p99']:.1f}",
                f"{eight['rps']:.0f}",
                f"{eight['rps'] / naive[8]['rps']:.1f}x",
            ]
            if eight
            else ["-"] * 4
        )
        q = r["quality"]
        cells += [f"{q['hit@1']:.3f}", f"{q['mrr@5']:.3f}", str(sum(r[c]["errors"] for c in (1, 8) if c in r))]
        print("| " + " | ".join(cells) + " |")
    print(
        f"\n(quality over {rows[0]['quality']['n']} questions with an expected document; "
        "wrk replays all questions in a loop)"
    )


if __name__ == "__main__":
    main()
