"""Shared by the bench scripts: the questions, the published chunks, and a real server in a subprocess."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import orjson
import yaml

ROOT = Path(__file__).resolve().parent.parent
EVAL = ROOT / "bench" / "eval"


def questions() -> list[dict]:
    """Tuning and holdout questions; `expect` is the document that should come first ([] = none)."""
    out = []
    for name in ("questions.yaml", "holdout.yaml"):
        out += yaml.safe_load((EVAL / name).read_text(encoding="utf-8"))
    return out


def live_chunks(index_dir: Path) -> list[dict]:
    """The chunks of the published index, so every system searches exactly the same passages."""
    from index.publish import current_dir

    return orjson.loads((current_dir(Path(index_dir)) / "chunks.json").read_bytes())


def embedding_text(chunk: dict) -> str:
    from index.store import chunk_from_dict

    return chunk_from_dict(chunk).embedding_text()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`uvicorn <app>` in a subprocess on a free port, waited for until /healthz answers."""

    def __init__(self, app: str, env: dict, workers: int = 1, app_dir: str | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [
            sys.executable,
            "-m",
            "uvicorn",
            app,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
            "--no-access-log",
        ]
        if app.endswith(("create_app_from_env", ":create_app")):
            cmd.append("--factory")
        if app_dir:
            cmd += ["--app-dir", app_dir]
        full_env = (
            os.environ
            | {
                "HF_HUB_OFFLINE": "1",
                "TRANSFORMERS_OFFLINE": "1",
                "TOKENIZERS_PARALLELISM": "false",
                "PYTHONPATH": str(ROOT),
            }
            | env
        )
        # The service logs one JSON line per request; kept in a file so the bench's own table stays readable.
        self.log = tempfile.NamedTemporaryFile("w+", prefix="bench-server-", suffix=".log", delete=False)
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=full_env, stdout=self.log, stderr=subprocess.STDOUT)
        self.workers = workers

    def __enter__(self):
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}; its log: {self.log.name}")
            try:
                if httpx.get(self.url + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        else:
            raise RuntimeError(f"server did not start; its log: {self.log.name}")
        # Every worker must have loaded its model before timing: poke until each answered.
        for _ in range(20 * self.workers):
            httpx.get(self.url + "/api/search", params={"q": "warm up"}, timeout=60)
        return self

    def __exit__(self, exc_type, *_):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()
        if exc_type is None:  # on failure the log stays for reading; its path is in the error
            os.unlink(self.log.name)
