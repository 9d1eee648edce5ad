"""Memory of one `beacon serve --sites` with every site loaded (the default) beside one that keeps a single
site loaded besides the first (BEACON_MAX_LOADED_SITES=1), in one run: the resident set size (VmRSS) after
start-up and after each site has been asked once.

    PYTHONPATH=. python bench/site_memory.py [--index .beacon/index] [--sites 8]

The sites are copies of one published index (the default guide's unless --index names another), each in its
own folder, so each loads its own copy as a different site would.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

QUESTION = "where can I talk to people about I-131"


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def serve(sites_file: Path, port: int, limit: int) -> tuple[float, float]:
    """(RSS after /readyz, RSS after one question to each site) of a fresh server, in MiB."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "HF_HUB_OFFLINE": "1",
        "BEACON_MAX_LOADED_SITES": str(limit),
        "BEACON_RATE_LIMIT_PER_MINUTE": "0",
        "BEACON_QUERY_CACHE": "0",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "serve", "--sites", str(sites_file), "--no-build", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start (rc {proc.poll()})")
            time.sleep(0.5)
        started = rss_mib(proc.pid)
        for name in httpx.get(url + "/healthz").json()["sites"]:
            r = httpx.get(url + "/api/search", params={"q": QUESTION, "site": name}, timeout=120)
            r.raise_for_status()
        return started, rss_mib(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, default=ROOT / ".beacon" / "index")
    parser.add_argument("--sites", type=int, default=8)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    from index.publish import current_dir
    from index.store import read_manifest

    live = current_dir(args.index)
    manifest = read_manifest(live)
    size = sum(p.stat().st_size for p in live.rglob("*") if p.is_file()) / 2**20
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        lines = []
        for i in range(args.sites):
            shutil.copytree(live, root / f"site{i}" / "versions" / live.name)
            (root / f"site{i}" / "CURRENT").write_text(live.name + "\n")
            lines.append(f'[sites.site{i}]\ncorpus = "{ROOT / "corpus"}"\nindex = "site{i}"\n')
        sites_file = root / "sites.toml"
        sites_file.write_text("\n".join(lines))
        print(f"{args.sites} sites, each a copy of {live} ({manifest.chunk_count} chunks, {size:.1f} MiB on disk)")
        eager = serve(sites_file, args.port, 0)
        lazy = serve(sites_file, args.port, 1)
    print(f"{'':28s}{'after start-up':>16s}{'each site asked':>18s}")
    print(f"{'every site loaded (0)':28s}{eager[0]:13.0f} MiB{eager[1]:15.0f} MiB")
    print(f"{'one besides the first (1)':28s}{lazy[0]:13.0f} MiB{lazy[1]:15.0f} MiB")
    print(f"lazy / eager: {lazy[0] / eager[0]:.2f} at start-up, {lazy[1] / eager[1]:.2f} after every site was asked")
    per_site = (eager[0] - lazy[0]) / max(1, args.sites - 1)
    print(f"about {per_site:.1f} MiB of resident memory per loaded site of this size")


if __name__ == "__main__":
    main()
