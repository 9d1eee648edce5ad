"""The `beacon` command: thin wrappers over ingest, index and the service."""

from __future__ import annotations

import functools
import json
import os
import signal
import sys
from pathlib import Path

import click

from ingest.errors import BeaconError

from .settings import Settings


def _offline() -> None:
    # Beacon never downloads at run time; fail fast instead of hanging on a hub request.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def common_options(fn):
    """--corpus, --index and --model on every command; each falls back to BEACON_* then the default."""
    @click.option("--corpus", "corpus_dir", type=click.Path(path_type=Path), default=None,
                  help="Corpus folder [env BEACON_CORPUS_DIR; default ./corpus].")
    @click.option("--index", "index_dir", type=click.Path(path_type=Path), default=None,
                  help="Index folder [env BEACON_INDEX_DIR; default ./.beacon/index].")
    @click.option("--model", default=None,
                  help="Sentence-transformers model name or folder [env BEACON_MODEL; default all-MiniLM-L6-v2, bundled].")
    @functools.wraps(fn)
    def wrapper(corpus_dir, index_dir, model, **kwargs):
        overrides = {k: v for k, v in {"corpus_dir": corpus_dir, "index_dir": index_dir, "model": model}.items()
                     if v is not None}
        return fn(settings=Settings(**overrides), **kwargs)
    return wrapper


def fail_on_beacon_error(fn):
    """Expected problems become a message and exit code 1, never a traceback."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except BeaconError as e:
            click.secho(f"Error: {e}", fg="red", err=True)
            sys.exit(1)
    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option("0.1.0", prog_name="beacon")
def main() -> None:
    """Beacon: answer questions from a curated corpus, with cited passages.

    \b
    Typical use:
      beacon build                 # index ./corpus (only what changed)
      beacon serve                 # http://127.0.0.1:8000 (builds first if needed)
      beacon search "where can I talk to people about I-131"
    """
    _offline()


def _embedder(settings: Settings):
    from index import Embedder

    return Embedder(settings.model)


def _print_report(report) -> None:
    if report.version is None:
        click.echo(f"Index is up to date ({report.chunks} chunks from {report.documents} documents).")
        return
    click.echo(
        f"Published {report.version}: {report.documents} documents, {report.chunks} chunks "
        f"(+{report.added} added, ~{report.changed} changed, -{report.removed} removed; "
        f"{report.embedded} embedded, {report.reused} from cache) in {report.seconds:.1f}s.")


@main.command()
@common_options
@click.option("--force", is_flag=True, help="Rebuild even if the index is up to date.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@fail_on_beacon_error
def build(settings: Settings, force: bool, quiet: bool) -> None:
    """Read the corpus, embed what changed, and publish a new index atomically.

    A malformed file stops the build with its file and line; the live index is left untouched.
    """
    from index import build_index

    report = build_index(settings.corpus_dir, settings.index_dir, _embedder(settings),
                         progress=not quiet, force=force)
    _print_report(report)


@main.command()
@common_options
@click.option("--host", default=None, help="Address to listen on [env BEACON_HOST; default 127.0.0.1].")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="Port [env BEACON_PORT; default 8000].")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True, help="uvicorn worker processes.")
@click.option("--no-build", is_flag=True, help="Serve the published index as is, even if the corpus changed.")
@fail_on_beacon_error
def serve(settings: Settings, host: str | None, port: int | None, workers: int, no_build: bool) -> None:
    """Run the web service (question page, JSON API, widget), building the index first if it is missing or stale."""
    import uvicorn

    from index import build_index, current_version, is_stale
    from index.embedder import resolve_model

    settings = settings.model_copy(update={k: v for k, v in {"host": host, "port": port}.items() if v is not None})
    if no_build:
        if current_version(settings.index_dir) is None:
            raise BeaconError(f"no index in {settings.index_dir}", "run 'beacon build' or drop --no-build")
        from index import load_version
        from index.publish import current_dir

        load_version(current_dir(settings.index_dir))  # a damaged index stops here with IndexCorruptError
    elif is_stale(settings.corpus_dir, settings.index_dir, resolve_model(settings.model)[1]):
        click.echo("Index is missing or out of date; building it first.")
        _print_report(build_index(settings.corpus_dir, settings.index_dir, _embedder(settings), progress=True))
    # Workers are separate processes; they read the same settings from the environment.
    for key, value in settings.model_dump(exclude_none=True).items():
        os.environ[f"BEACON_{key.upper()}"] = json.dumps(value) if isinstance(value, list) else str(value)
    click.echo(f"Beacon is serving on http://{settings.host}:{settings.port}  (Ctrl+C to stop)")
    # uvicorn drains in-flight requests on SIGTERM, then re-raises the signal with the handler found here:
    # this one turns a requested stop into exit code 0, so supervisors don't report a crash.
    signal.signal(signal.SIGTERM, _stopped)
    # No access log: its lines carry the query string, i.e. readers' health questions (docs/security.md).
    uvicorn.run("service.app:create_app_from_env", factory=True, host=settings.host, port=settings.port,
                workers=workers, log_level="info", access_log=False,
                # uvicorn would believe X-Forwarded-For from 127.0.0.1; the trusted_proxies setting decides instead.
                proxy_headers=False,
                timeout_graceful_shutdown=settings.shutdown_grace_s)


def _stopped(signum, frame) -> None:
    click.echo("Beacon stopped; requests in flight were answered first.")
    sys.exit(0)


@main.command()
@common_options
@click.argument("question")
@click.option("--k", "-k", type=click.IntRange(1, 100), default=5, show_default=True, help="Passages to show.")
@click.option("--json", "as_json", is_flag=True, help="Print the same JSON as /api/search.")
@fail_on_beacon_error
def search(settings: Settings, question: str, k: int, as_json: bool) -> None:
    """Ask QUESTION against the published index and print the answer and passages."""
    from index import open_searcher

    from .query import clean_query

    query = clean_query(question, settings.max_query_chars)
    result = open_searcher(settings.index_dir, _embedder(settings)).search(query, k)
    if as_json:
        click.echo(json.dumps({
            "query": result.query,
            "answer": {"text": result.answer.text, "result": result.answer.result} if result.answer else None,
            "results": [{"id": h.chunk.id, "title": h.chunk.title, "section": h.chunk.section,
                         "text": h.chunk.text, "links": [l.__dict__ for l in h.chunk.links],
                         "score": round(h.score, 4)} for h in result.hits],
        }, ensure_ascii=False, indent=2))
        return
    if result.answer:
        click.secho(f"Answer: {result.answer.text}", bold=True)
    else:
        click.secho("Nothing in the corpus answers that directly.", bold=True)
    for n, h in enumerate(result.hits, 1):
        click.echo(f"\n{n}. {h.chunk.title} › {h.chunk.section}  ({h.score:.2f})")
        click.echo(f"   {h.chunk.text}")
        for l in h.chunk.links:
            click.echo(f"   → {l.text}: {l.url}")
        click.echo(f"   from: {h.chunk.doc_id}#{h.chunk.anchor}")


@main.group()
def report() -> None:
    """Reports for curators."""


@report.command()
@click.option("--days", type=click.IntRange(1, 3650), default=30, show_default=True, help="How far back to look.")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True, help="Most questions shown.")
@fail_on_beacon_error
def gaps(days: int, limit: int) -> None:
    """The questions Beacon could not answer most often: where the corpus needs new material.

    Reads the gap log that the service writes when BEACON_QUERY_LOG_PATH is set.
    """
    from .querylog import report_gaps

    settings = Settings()
    if settings.query_log_path is None or not settings.query_log_path.exists():
        raise BeaconError("there is no gap log to report on",
                          "set BEACON_QUERY_LOG_PATH=<file.sqlite> for 'beacon serve' to record unanswered questions")
    rows = report_gaps(settings.query_log_path, days, limit)
    if not rows:
        click.echo(f"No unanswered questions in the last {days} days.")
        return
    click.echo(f"Unanswered questions, last {days} days (times asked, best score, question):")
    for gap in rows:
        score = "   -" if gap.best_score is None else f"{gap.best_score:.2f}"
        click.echo(f"{gap.times:5d}  {score}  {gap.question}")


if __name__ == "__main__":
    main()
