"""Throughput through a real haproxy in front of 3 replicas, against one replica asked directly, on
the same box in the same run (python bench/replicas.py [--index .beacon/index] [--seconds 10]).

Replicas are `beacon serve` processes mirroring a local "bucket" (file://, fsspec) that the index
is published to; the load is N httpx threads, each asking distinct (uncached) questions in a loop."""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import ROOT, free_port, questions


def start_replica(index_dir: Path, bucket: str, workers: int) -> tuple[subprocess.Popen, str]:
    import os

    port = free_port()
    env = os.environ | {
        "PYTHONPATH": str(ROOT),
        "HF_HUB_OFFLINE": "1",
        "BEACON_INDEX_URL": bucket,
        "BEACON_RATE_LIMIT_PER_MINUTE": "0",
        "BEACON_QUERY_CACHE": "0",
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "service.cli",
            "serve",
            "--index",
            str(index_dir),
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                return proc, url
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError("replica did not start")


def load(url: str, seconds: float, threads: int) -> dict:
    qs = [q["q"] for q in questions()]
    times: list[float] = []
    failed = [0]
    stop = time.monotonic() + seconds

    def run(t: int) -> None:
        n = 0
        with httpx.Client(base_url=url, timeout=30) as c:
            while time.monotonic() < stop:
                n += 1
                started = time.perf_counter()
                r = c.get("/api/search", params={"q": f"{qs[n % len(qs)]} {t}-{n}"})
                if r.status_code != 200:
                    failed[0] += 1
                times.append((time.perf_counter() - started) * 1000)

    pool = [threading.Thread(target=run, args=(t,)) for t in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    times.sort()
    return {
        "rps": len(times) / seconds,
        "p50": statistics.median(times),
        "p99": times[int(len(times) * 0.99)],
        "failed": failed[0],
        "n": len(times),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=ROOT / ".beacon" / "index")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    from index.publish import current_dir
    from index.remote import publish_version

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        bucket = f"file://{tmp / 'bucket'}"
        publish_version(current_dir(args.index), bucket)
        procs = []
        try:
            one, one_url = start_replica(tmp / "single", bucket, 1)
            procs.append(one)
            r = load(one_url, args.seconds, args.threads)
            print(
                f"1 replica (1 worker), direct: {r['rps']:.0f} req/s, p50 {r['p50']:.1f} ms, p99 {r['p99']:.1f} ms, "
                f"{r['failed']} failed of {r['n']}"
            )
            replicas = [start_replica(tmp / f"r{i}", bucket, 1) for i in range(3)]
            procs += [p for p, _ in replicas]
            port = free_port()
            servers = "\n".join(f"    server r{i} {u.split('//')[1]} check" for i, (_, u) in enumerate(replicas))
            (tmp / "haproxy.cfg").write_text(
                "defaults\n    mode http\n    timeout connect 2s\n    timeout client 30s\n    timeout server 30s\n"
                f"frontend f\n    bind 127.0.0.1:{port}\n    default_backend b\nbackend b\n    balance roundrobin\n"
                f"    option httpchk GET /readyz\n{servers}\n"
            )
            lb = subprocess.Popen(
                ["haproxy", "-db", "-f", str(tmp / "haproxy.cfg")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            procs.append(lb)
            time.sleep(2)
            r = load(f"http://127.0.0.1:{port}", args.seconds, args.threads)
            print(
                f"3 replicas (1 worker each) behind haproxy: {r['rps']:.0f} req/s, p50 {r['p50']:.1f} ms, "
                f"p99 {r['p99']:.1f} ms, {r['failed']} failed of {r['n']}"
            )
        finally:
            for p in procs:
                p.terminate()
                p.wait(timeout=20)


if __name__ == "__main__":
    main()
