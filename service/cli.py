"""The `beacon` command: thin wrappers over ingest, index and the service."""

from __future__ import annotations

import functools
import json
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import click
from pydantic import ValidationError

from ingest.errors import BeaconError
from ingest.text import printable

from . import __version__
from .settings import WORKER_SETTINGS, Settings, settings_for_workers


def load_settings(**overrides) -> Settings:
    """Settings from flags (overrides), then BEACON_* variables, then defaults; a bad value is one plain line."""
    try:
        return Settings(**overrides)
    except ValidationError as e:  # e.g. a BEACON_* variable out of range: say which, no traceback
        raise click.ClickException(
            "; ".join(
                f"setting {'.'.join(map(str, err['loc'])) or '?'} (BEACON_{str(err['loc'][0]).upper()}): {err['msg']}"
                for err in e.errors()
            )
        ) from e


def common_options(fn):
    """--corpus, --index and --model on every command; each falls back to BEACON_* then the default."""

    @click.option(
        "--corpus",
        "corpus_dir",
        type=click.Path(path_type=Path),
        default=None,
        help="Corpus folder [env BEACON_CORPUS_DIR; default ./corpus].",
    )
    @click.option(
        "--index",
        "index_dir",
        type=click.Path(path_type=Path),
        default=None,
        help="Index folder [env BEACON_INDEX_DIR; default ./.beacon/index].",
    )
    @click.option(
        "--model",
        default=None,
        help="Sentence-transformers model name or folder [env BEACON_MODEL; default all-MiniLM-L6-v2, bundled].",
    )
    @click.option(
        "--site",
        "site_config",
        type=click.Path(path_type=Path, dir_okay=False),
        default=None,
        help="Site settings file [env BEACON_SITE_CONFIG; default CORPUS/beacon.toml if there is one].",
    )
    @functools.wraps(fn)
    def wrapper(corpus_dir, index_dir, model, site_config, **kwargs):
        overrides = {
            k: v
            for k, v in {
                "corpus_dir": corpus_dir,
                "index_dir": index_dir,
                "model": model,
                "site_config": site_config,
            }.items()
            if v is not None
        }
        return fn(settings=load_settings(**overrides), **kwargs)

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
@click.version_option(__version__, prog_name="beacon")
def main() -> None:
    """Beacon: answer questions from a curated corpus, with cited passages.

    \b
    Typical use:
      beacon check                 # validate ./corpus without building
      beacon build                 # index ./corpus (only what changed); --watch to keep going
      beacon serve                 # http://127.0.0.1:8000 (builds first if needed)
      beacon search "where can I talk to people about I-131"
    """


def _embedder(settings: Settings):
    from index import Embedder

    # Builds and one-off searches may use every core; the service sets its own per-worker threads.
    return Embedder(settings.model, backend=settings.encoder, threads=0)


def _print_outcome(skipped, errors, verbose: bool) -> None:
    """Files left out, as a summary (or one line each with --verbose), and files that could not be read."""
    for message in errors:
        click.secho(f"Error (file left out): {message}", fg="red", err=True)
    if skipped is None:
        return
    for line in skipped.listing() if verbose else skipped.lines():
        click.echo(line)
    if errors:
        click.secho(
            f'{len(errors)} file(s) could not be read and were left out (on_error = "skip").', fg="red", err=True
        )


def _print_report(report, verbose: bool = False) -> None:
    _print_outcome(report.skipped, report.errors, verbose)
    if report.version is None:
        click.echo(f"Index is up to date ({report.chunks} chunks from {report.documents} documents).")
        return
    click.echo(
        f"Published {report.version}: {report.documents} documents, {report.chunks} chunks "
        f"(+{report.added} added, ~{report.changed} changed, -{report.removed} removed; "
        f"{report.embedded} embedded, {report.reused} from cache) in {report.seconds:.1f}s."
    )


def sites_option(fn):
    """--sites FILE: a server file naming several sites (service/sites.py)."""

    @click.option(
        "--sites",
        "sites_file",
        type=click.Path(path_type=Path, dir_okay=False),
        default=None,
        help="Server file naming several sites, each with its own corpus and index [env BEACON_SITES_FILE].",
    )
    @functools.wraps(fn)
    def wrapper(settings: Settings, sites_file: Path | None, **kwargs):
        if sites_file is not None:
            settings = settings.model_copy(update={"sites_file": sites_file})
        return fn(settings=settings, **kwargs)

    return wrapper


def one_site_option(fn):
    """--sites FILE --only NAME: a command that works on one index (versions, rollback) on one site's."""

    @click.option(
        "--only",
        "only",
        default=None,
        metavar="NAME",
        help="With a server file: the site (or NAME@VERSION) to work on (docs/sites.md).",
    )
    @sites_option
    @fail_on_beacon_error  # this wrapper's own errors (no such site) too
    @functools.wraps(fn)
    def wrapper(settings: Settings, only: str | None, **kwargs):
        if settings.sites_file:
            picked = _site_settings(settings, (only,)) if only else []
            if len(picked) != 1:
                from .sites import load_sites_file

                names = ", ".join(load_sites_file(settings.sites_file))
                raise BeaconError(f"{settings.sites_file} names several sites", f"choose one with --only: {names}")
            settings = picked[0]
        elif only:
            raise BeaconError("--only names a site of a server file", "add --sites FILE (docs/sites.md)")
        return fn(settings=settings, **kwargs)

    return wrapper


def _site_settings(settings: Settings, only: tuple[str, ...] = ()) -> list[Settings]:
    """The settings of each site of the server file (its corpus, its index, its own site file), or of those
    `only` names; an unknown name is an error that lists the known ones."""
    return list(_sites(settings, only).values())


def _sites(settings: Settings, only: tuple[str, ...] = ()) -> dict[str, Settings]:
    """_site_settings by site key (NAME, or NAME@VERSION)."""
    from index.remote import sub_url

    from .sites import load_sites_file, settings_of

    sites = load_sites_file(settings.sites_file)
    if unknown := [n for n in only if n not in sites and n not in {s.name for s in sites.values()}]:
        raise BeaconError(f"{settings.sites_file} has no site {unknown[0]!r}", f"its sites: {', '.join(sites)}")
    return {
        # Each site's remote index lives under the publish URL in its own folder, NAME (or NAME@VERSION).
        s.key: settings_of(settings, s).model_copy(
            update={"publish_url": settings.publish_url and sub_url(settings.publish_url, s.key)}
        )
        for s in sites.values()
        if not only or s.name in only or s.key in only
    }


@main.command()
@common_options
@click.option("--force", is_flag=True, help="Rebuild even if the index is up to date.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@click.option("--watch", is_flag=True, help="Keep running and rebuild whenever a corpus file changes (Ctrl+C stops).")
@click.option(
    "--base-url", default=None, help="Public address of the corpus root [env BEACON_BASE_URL; overrides the site file]."
)
@click.option("--verbose", "-v", is_flag=True, help="List every skipped file with its reason.")
@click.option(
    "--publish-to",
    "publish_to",
    default=None,
    metavar="URL",
    help="Also upload the live version to object storage (s3://, gs://, az://, file:// or a path) "
    "and move its pointer last [env BEACON_PUBLISH_URL].",
)
@sites_option
@click.option(
    "--only",
    "only",
    multiple=True,
    metavar="NAME",
    help="With a server file: build only this site (repeat for several); without, every site (docs/sites.md).",
)
@fail_on_beacon_error
def build(
    settings: Settings,
    force: bool,
    quiet: bool,
    watch: bool,
    base_url: str | None,
    verbose: bool,
    publish_to: str | None,
    only: tuple[str, ...],
) -> None:
    """Read the corpus, embed what changed, and publish a new index atomically.

    Reads .md/.markdown (front matter optional), .html/.htm, .pdf and .txt; other files are skipped
    and counted. A file that cannot be read stops the build (site setting on_error = "stop", the
    default corpus's) or is left out with an error line ("skip"); either way a failed build leaves
    the live index untouched. A running service picks the new index up within seconds (see
    BEACON_RELOAD_INTERVAL); with --publish-to, replicas started with BEACON_INDEX_URL pick it up
    from object storage.
    """
    from index import build_index

    if base_url is not None:
        settings = settings.model_copy(update={"base_url": base_url})
    publish_to = publish_to or settings.publish_url
    if settings.sites_file:
        embedder = _embedder(settings)
        sites = _sites(settings.model_copy(update={"publish_url": publish_to}), only)
        if watch:  # every site in one watch, on one model: only a site whose corpus changed is rebuilt
            _watch(sites, embedder, quiet)
            return
        for site_settings in sites.values():
            click.secho(f"Site {site_settings.corpus_dir} -> {site_settings.index_dir}", bold=True)
            report = build_index(
                site_settings.corpus_dir,
                site_settings.index_dir,
                embedder,
                progress=not quiet,
                force=force,
                keep=settings.keep_versions,
                site=site_settings.site(),
            )
            _print_report(report, verbose)
            if publish_to:  # each site under its own prefix, BASE/NAME (docs/sites.md, replicas)
                _publish_remote(site_settings, site_settings.publish_url)
        return
    elif only:
        raise BeaconError("--only names a site of a server file", "add --sites FILE (docs/sites.md)")
    site = settings.site()
    embedder = _embedder(settings)
    if watch:
        _watch({"": settings.model_copy(update={"publish_url": publish_to})}, embedder, quiet)
        return
    report = build_index(
        settings.corpus_dir,
        settings.index_dir,
        embedder,
        progress=not quiet,
        force=force,
        keep=settings.keep_versions,
        site=site,
    )
    _print_report(report, verbose)
    if publish_to:
        _publish_remote(settings, publish_to)


def _publish_remote(settings: Settings, url: str) -> None:
    """Upload the local live version unless the remote pointer already names it (so a cron job
    that finds nothing changed uploads nothing)."""
    from index.publish import current_dir
    from index.remote import publish_version, read_signing_key, remote_current, safe_url

    local = current_dir(settings.index_dir)
    if remote_current(url) == local.name:
        click.echo(f"{safe_url(url)} already serves {local.name}.")
        return
    key = read_signing_key(settings.signing_key_file) if settings.signing_key_file else None
    version = publish_version(local, url, signing_key=key)
    click.echo(f"Published {version} to {safe_url(url)}; replicas pick it up within BEACON_REMOTE_POLL_INTERVAL.")


def _watch(sites: dict[str, Settings], embedder, quiet: bool) -> None:
    """Build each site, then rebuild the one whose corpus changed, and publish it to its publish_url if set.
    `sites`: by site key, or one site keyed "" (a build without a server file: no site names printed)."""
    from index.watch import Watched, watch_and_build_sites

    targets = [Watched(s.corpus_dir, s.index_dir, s.site(), key) for key, s in sites.items()]

    def on_report(target: Watched, report) -> None:
        if target.name:
            click.secho(f"Site {target.name}:", bold=True)
        _print_report(report)
        publish_to = sites[target.name].publish_url
        if publish_to and report.version:
            try:
                _publish_remote(sites[target.name], publish_to)
            except BeaconError as e:  # the local build stands; the next one publishes again
                click.secho(f"Error: {e}", fg="red", err=True)

    def on_error(target: Watched, e: BeaconError) -> None:
        click.secho(f"Error: {f'site {target.name}: ' if target.name else ''}{e}", fg="red", err=True)
        click.echo("The live index is unchanged. Still watching; fix the file and save it.", err=True)

    def on_change(target: Watched, paths: list[str]) -> None:
        shown = ", ".join(paths[:3]) + (f" and {len(paths) - 3} more" if len(paths) > 3 else "")
        click.echo(f"Changed{f' in {target.name}' if target.name else ''}: {shown}")

    click.echo(f"Watching {', '.join(str(s.corpus_dir) for s in sites.values())} (Ctrl+C to stop).")
    try:
        watch_and_build_sites(
            targets,
            embedder,
            on_report=on_report,
            on_error=on_error,
            on_change=on_change,
            keep=next(iter(sites.values())).keep_versions,
            progress=not quiet,
        )
    except KeyboardInterrupt:
        click.echo("Stopped watching.")


@main.command()
@common_options
@click.option(
    "--no-model", is_flag=True, help="Skip what needs the model: the section-length rule, passages and build time."
)
@click.option("--verbose", "-v", is_flag=True, help="List every skipped file with its reason.")
@one_site_option
@fail_on_beacon_error
def check(settings: Settings, no_model: bool, verbose: bool) -> None:
    """Validate the corpus without building: front matter, duplicate ids and titles, broken
    internal links, non-http(s) links, empty and over-long sections.

    First says what a build would index (documents per type, passages) and about how long it would
    take here; then prints every problem as FILE:LINE: error|warning: ... (hint: ...); exits 1 if any
    is an error. Files Beacon does not read are skipped and counted, not errors (except in a strict site).
    """
    from ingest.check import check_corpus, index_plan
    from ingest.reader import CorpusRead

    site = settings.site()
    embedder = None if no_model else _embedder(settings)
    outcome, documents = CorpusRead(), []
    problems = check_corpus(
        settings.corpus_dir,
        embedder and embedder.max_tokens,
        embedder and embedder.count_tokens,
        site=site,
        outcome=outcome,
        documents=documents,
    )
    for line in index_plan(
        documents,
        embedder and embedder.max_tokens,
        embedder and embedder.count_tokens,
        embedder and embedder.encode,
    ):
        click.echo(line)
    _print_outcome(outcome.skipped, (), verbose)
    for p in problems:
        click.secho(str(p), fg="red" if p.severity == "error" else "yellow")
    errors = sum(p.severity == "error" for p in problems)
    warnings = len(problems) - errors
    if errors:
        click.secho(
            f"{errors} error(s), {warnings} warning(s): fix the errors before 'beacon build'.", fg="red", err=True
        )
        sys.exit(1)
    click.echo(f"Corpus OK: {warnings} warning(s)." if warnings else "Corpus OK: no problems found.")


@main.command()
@common_options
@one_site_option
@fail_on_beacon_error
def versions(settings: Settings) -> None:
    """List the kept index versions, oldest first; the live one is marked with '*'."""
    from index.versions import describe_versions

    found = describe_versions(settings.index_dir)
    if not found:
        raise BeaconError(f"no index versions in {settings.index_dir}", "run 'beacon build' first")
    for v in found:
        m = v.manifest
        detail = (
            f"{m.document_count} documents, {m.chunk_count} chunks, built {m.built_at[:19]}Z"
            if m
            else "incomplete or damaged"
        )
        click.echo(f"{'*' if v.live else ' '} {v.version}  {detail}")


@main.command()
@common_options
@click.option(
    "--to",
    "target",
    default=None,
    metavar="VERSION",
    help="Version to make live (default: the one before the live one).",
)
@one_site_option
@fail_on_beacon_error
def rollback(settings: Settings, target: str | None) -> None:
    """Make an earlier index version live again; running services swap to it within seconds.

    The next 'beacon build' publishes the corpus as it is then, so fix the corpus first.
    With BEACON_PUBLISH_URL set, the remote pointer that replicas follow is moved instead.
    """
    from index import current_version
    from index.versions import rollback as do_rollback

    if settings.publish_url:  # replicas follow the remote pointer, so that is the one to move
        from index.remote import rollback_remote, safe_url

        was, now = rollback_remote(settings.publish_url, target)
        click.echo(
            f"Live index at {safe_url(settings.publish_url)} is now {now} (was {was}); "
            "replicas swap to it at their next poll."
        )
        return
    before = current_version(settings.index_dir)
    version = do_rollback(settings.index_dir, target)
    click.echo(f"Live index is now {version} (was {before}).")


@main.command()
@common_options
@click.option("--host", default=None, help="Address to listen on [env BEACON_HOST; default 127.0.0.1].")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="Port [env BEACON_PORT; default 8000].")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True, help="uvicorn worker processes.")
@click.option("--no-build", is_flag=True, help="Serve the published index as is, even if the corpus changed.")
@sites_option
@fail_on_beacon_error
def serve(settings: Settings, host: str | None, port: int | None, workers: int, no_build: bool) -> None:
    """Run the web service (question page, JSON API, widget), building the index first if it is missing or stale."""
    import uvicorn

    from index.embedder import resolve_model
    from index.servable import ensure_servable

    settings = settings.model_copy(update={k: v for k, v in {"host": host, "port": port}.items() if v is not None})
    if settings.index_url:
        # A replica never builds: service.app downloads the remote live version first (docs/deploy.md).
        from index.remote import safe_url

        where = (
            "each site from URL/NAME into its index folder" if settings.sites_file else f"it into {settings.index_dir}"
        )
        click.echo(f"Replica of {safe_url(settings.index_url)}: mirroring {where}.")
    else:
        embedder = functools.cache(lambda: _embedder(settings))  # loaded once, and only if a site needs a build
        for site_settings in _site_settings(settings) if settings.sites_file else [settings]:
            report = ensure_servable(
                site_settings.corpus_dir,
                site_settings.index_dir,
                resolve_model(settings.model)[1],
                embedder,
                site_settings.site(),
                settings.keep_versions,
                build=not no_build,
                say=click.echo,
            )
            if report is not None:
                _print_report(report)
    # Workers are separate processes; they read the same settings from the environment.
    os.environ[WORKER_SETTINGS] = settings_for_workers(settings)
    if settings.query_log_path is not None:
        from .querylog import CuratorLog

        try:  # refused here, before "serving" is printed, with one line
            CuratorLog(settings.query_log_path, settings.query_log_retention_days, settings.query_log_max_rows)
        except BeaconError as e:
            click.secho(f"Error: {e}", fg="red", err=True)
            sys.exit(1)
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Each worker counts on its own; a shared folder lets /metrics add them up (service/metrics.py).
        import tempfile

        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="beacon-metrics-")
    click.echo(f"Beacon is serving on http://{settings.host}:{settings.port}  (Ctrl+C to stop)")
    # uvicorn drains in-flight requests on SIGTERM, then re-raises the signal with the handler found here:
    # this one turns a requested stop into exit code 0, so supervisors don't report a crash.
    signal.signal(signal.SIGTERM, _stopped)
    # No access log: its lines carry the query string, i.e. readers' health questions (docs/security.md).
    from .connections import uvicorn_options

    uvicorn.run(
        "service.app:create_app_from_env",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=workers,
        log_level="info",
        access_log=False,
        # A deadline for request heads, keep-alive and a connection cap (service/connections.py).
        **uvicorn_options(settings),
        # uvicorn would believe X-Forwarded-For from 127.0.0.1; the trusted_proxies setting decides instead.
        proxy_headers=False,
        timeout_graceful_shutdown=settings.shutdown_grace_s,
    )


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
    from .schemas import SearchOut
    from .site import passage_link

    query = clean_query(question, settings.max_query_chars)
    searcher = open_searcher(settings.index_dir, _embedder(settings), settings.search_settings())
    started = time.perf_counter()
    result = searcher.search(query, k)

    def link_of(doc_id: str, anchor: str, target: str = "") -> str:
        return passage_link(searcher.stored.documents, doc_id, anchor, target)

    if as_json:
        click.echo(
            SearchOut.of(result, link_of, took_ms=(time.perf_counter() - started) * 1000).model_dump_json(
                indent=2, exclude_unset=True
            )
        )
        return
    if result.corrected:
        click.echo(f"Searched for: {result.corrected}")
    if result.answer:
        click.secho(f"Answer: {result.answer.text}", bold=True)
    else:
        click.secho("Nothing in the corpus answers that directly.", bold=True)
    for n, h in enumerate(result.hits, 1):
        # Confidence, not the fusion score: it is the number a reader can make sense of (0-1).
        weak = ", less related" if h.weak else ""
        click.echo(f"\n{n}. {h.chunk.label}  (confidence {h.confidence:.2f}{weak})")
        click.echo(f"   {h.chunk.text}")
        for l in h.chunk.links:
            click.echo(f"   → {l.text}: {l.url}")
        click.echo(f"   from: {link_of(h.chunk.doc_id, h.chunk.anchor, h.chunk.target)}")


@main.command("eval")
@common_options
@click.option(
    "--questions",
    "-q",
    "question_files",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    multiple=True,
    help=(
        "YAML question set (repeatable) [default: bench/eval/questions.yaml, holdout.yaml, blind.yaml, "
        "describe-holdout.yaml, zh.yaml and zh-holdout.yaml]."
    ),
)
@click.option("--json", "as_json", is_flag=True, help="Print the scores as JSON.")
@click.option("--misses", is_flag=True, help="Also list the questions each mode got wrong.")
@fail_on_beacon_error
def evaluate(settings: Settings, question_files: tuple[Path, ...], as_json: bool, misses: bool) -> None:
    """Score dense, lexical and hybrid retrieval on question sets, side by side.

    \b
    hit@1, hit@3: share of answerable questions with an expected document first / in the top 3.
    MRR@10: mean 1/rank of the first expected document among the top 10 documents.
    noans P/R: precision and recall of "no answer" (answer null) for the questions marked expect: [].
    Questions none of whose expected documents is in the index (a slice of a site) are skipped and counted.

    
    Another site: beacon eval --index /tmp/pydocs-index --questions bench/eval/python-docs.yaml
    """
    from index import open_searcher
    from index.evaluate import DEFAULT_QUESTION_FILES, as_dict, evaluate_modes, format_table, load_questions

    files = question_files or tuple(p for p in DEFAULT_QUESTION_FILES if p.is_file())
    if not files:
        raise BeaconError("no question files found", "pass --questions PATH, or run from the project root")
    searcher = open_searcher(settings.index_dir, _embedder(settings), settings.search_settings())
    report = {str(f): evaluate_modes(searcher, load_questions(f)) for f in files}
    if as_json:
        click.echo(
            json.dumps(
                {f: {s.mode: as_dict(s, misses) for s in scores} for f, scores in report.items()},
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    for f, scores in report.items():
        click.echo(format_table(f, scores) + "\n")
        for s in scores if misses else ():
            click.echo(f"{s.mode} misses:\n" + "".join(f"  {m}\n" for m in s.misses))


def report_period(command):
    """--days and --limit, the same for `beacon report` and each of its subcommands, so both show the
    same rows."""
    command = click.option(
        "--limit", type=click.IntRange(1, 1000), default=REPORT_ROWS, show_default=True, help="Rows per section."
    )(command)
    return click.option(
        "--days", type=click.IntRange(1, 3650), default=REPORT_DAYS, show_default=True, help="How far back to look."
    )(command)


REPORT_DAYS, REPORT_ROWS = 30, 20


@dataclass(frozen=True)
class ReportOn:
    """What `beacon report` and its subcommands read: the settings (the log, the index) and, on a log of
    several sites, the one site whose rows to show (--only; None: every site's, each row naming its own)."""

    settings: Settings
    site: str | None = None

    def narrowed(self, sites_file: Path | None, only: str | None) -> ReportOn:
        """--sites and --only given to a subcommand (`beacon report gaps --only garden`) over the group's."""
        settings = self.settings
        if sites_file is not None:
            settings = settings.model_copy(update={"sites_file": sites_file})
        if only is None:
            return ReportOn(settings, self.site)
        if not settings.sites_file:
            raise BeaconError("--only names a site of a server file", "add --sites FILE (docs/sites.md)")
        _site_settings(settings, (only,))  # an unknown site: an error listing the known ones
        return ReportOn(settings, only)


def report_sites(command):
    """--sites FILE --only NAME on each `beacon report` subcommand, as on the group."""

    @report_only_option
    @report_sites_file_option
    @click.pass_obj
    @fail_on_beacon_error
    @functools.wraps(command)
    def wrapper(on: ReportOn, sites_file: Path | None, only: str | None, **kwargs):
        return command(on.narrowed(sites_file, only), **kwargs)

    return wrapper


report_sites_file_option = click.option(
    "--sites",
    "sites_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Server file naming several sites: the log's rows say their site [env BEACON_SITES_FILE].",
)
report_only_option = click.option(
    "--only",
    default=None,
    metavar="NAME",
    help="With --sites: only this site's rows (NAME@VERSION: one version of it) (docs/sites.md).",
)


@main.group(invoke_without_command=True)
@report_period
@report_sites_file_option
@report_only_option
@click.option(
    "--log",
    "log_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="The gap log to read [env BEACON_QUERY_LOG_PATH].",
)
@click.option(
    "--html",
    "html_path",
    type=click.Path(path_type=Path, dir_okay=False, writable=True),
    default=None,
    help="Write the dashboard's report (charts, grouped questions) as one self-contained HTML file.",
)
@click.option(
    "--lang", type=click.Choice(["en", "zh"]), default="en", show_default=True, help="The HTML file's language."
)
@click.option(
    "--index",
    "index_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="With --html: the index whose model groups the questions [env BEACON_INDEX_DIR].",
)
@click.pass_context
@fail_on_beacon_error
def report(
    ctx: click.Context,
    days: int,
    limit: int,
    log_path: Path | None,
    html_path: Path | None,
    lang: str,
    index_dir: Path | None,
    sites_file: Path | None,
    only: str | None,
) -> None:
    """Reports for curators. Alone: the unanswered questions, the answers readers marked unhelpful
    and the most asked questions, from the log the service keeps with BEACON_QUERY_LOG_PATH.
    With a server file (--sites), each row names its site; --only NAME shows one site's."""
    # The same settings as every command (flags, then BEACON_*), shared with the subcommands.
    overrides = {"query_log_path": log_path, "index_dir": index_dir}
    ctx.obj = ReportOn(load_settings(**{k: v for k, v in overrides.items() if v})).narrowed(sites_file, only)
    if html_path is not None:
        _write_html_report(ctx.obj, html_path, days, lang)
        return
    if ctx.invoked_subcommand is not None:
        return
    for i, command in enumerate((gaps, unhelpful, asked)):
        if i:
            click.echo()
        ctx.invoke(command, days=days, limit=limit)


def _write_html_report(on: ReportOn, path: Path, days: int, lang: str) -> None:
    from index import open_searcher

    from .report import build_report, render_html
    from .site import read_site
    from .sites import load_sites_file

    settings = on.settings
    log_path = _query_log_path(settings)
    embedder = _embedder(settings)
    searchers = {}
    if settings.sites_file:  # each site's passages found and linked in its own index
        entries = {
            key: e
            for key, e in load_sites_file(settings.sites_file).items()
            if on.site is None or on.site in (key, e.name)
        }
        searchers = {key: open_searcher(e.index, embedder, settings.search_settings()) for key, e in entries.items()}
        # The one the questions are grouped with: the site's (its current version's), else the first site's.
        searcher = searchers.get(on.site) or next(searchers[key] for key, e in entries.items() if e.current)
    else:
        searcher = open_searcher(settings.index_dir, embedder, settings.search_settings())
    report = build_report(
        log_path,
        days,
        searcher,
        retention_days=settings.query_log_retention_days,
        base=settings.public_url or "",
        site=on.site,
        sites=searchers or None,
    )
    html = render_html(report, read_site(str(searcher.stored.directory)), lang)
    try:
        path.write_text(html, encoding="utf-8")
    except OSError as e:
        raise BeaconError(f"cannot write {path}: {e.strerror}", "choose a file in a writable folder") from None
    click.echo(
        f"Wrote the report of the last {report.days} days to {path} ({len(report.groups)} groups of unanswered questions)."
    )


def _query_log_path(settings: Settings) -> Path:
    if settings.query_log_path is None or not settings.query_log_path.exists():
        raise BeaconError(
            "there is no gap log to report on",
            "set BEACON_QUERY_LOG_PATH=<file.sqlite> for 'beacon serve' to record unanswered questions",
        )
    return settings.query_log_path


def _window(on: ReportOn, days: int) -> dict:
    """The arguments every querylog report takes: the period, the retention and the site."""
    return dict(days=days, retention_days=on.settings.query_log_retention_days, site=on.site)


def _site_columns(rows) -> tuple[str, Callable]:
    """On a log of several sites, each row names its site (a column before the question)."""
    if not any(row.site for row in rows):
        return "", lambda row: ""
    width = max(len(row.site or "-") for row in rows)
    return "site, ", lambda row: f"{printable(row.site or '-'):{width}s}  "


@report.command()
@report_period
@report_sites
def unhelpful(on: ReportOn, days: int, limit: int) -> None:
    """Answers and passages readers marked "did not help", with the question they had asked."""
    from .querylog import helpful_counts, report_unhelpful

    path = _query_log_path(on.settings)
    yes, no = helpful_counts(path, **_window(on, days))
    rows = report_unhelpful(path, limit=limit, **_window(on, days))
    click.echo(
        f"Marked unhelpful, last {days} days ({yes} helpful, {no} unhelpful votes in all)"
        + (":" if rows else ": none.")
    )
    header, site = _site_columns(rows)
    if rows:
        click.echo(f"(times, answer or result, {header}passage, question)")
    for row in rows:
        click.echo(f"{row.times:5d}  {row.kind:6s}  {site(row)}{printable(row.passage)}  {printable(row.question)}")


@report.command()
@report_period
@report_sites
def asked(on: ReportOn, days: int, limit: int) -> None:
    """The most asked questions (answered or not) and how often they got an answer."""
    from .querylog import report_asked

    rows = report_asked(_query_log_path(on.settings), limit=limit, **_window(on, days))
    header, site = _site_columns(rows)
    click.echo(
        f"Most asked, last {days} days" + (f" (times, share answered, {header}question):" if rows else ": none.")
    )
    for row in rows:
        click.echo(f"{row.times:5d}  {row.answered_share:4.0%}  {site(row)}{printable(row.question)}")


@report.command()
@report_period
@report_sites
def gaps(on: ReportOn, days: int, limit: int) -> None:
    """The questions Beacon could not answer most often: where the corpus needs new material.

    Reads the gap log that the service writes when BEACON_QUERY_LOG_PATH is set.
    """
    from .querylog import report_gaps

    rows = report_gaps(_query_log_path(on.settings), limit=limit, **_window(on, days))
    if not rows:
        click.echo(f"No unanswered questions in the last {days} days.")
        return
    header, site = _site_columns(rows)
    click.echo(f"Unanswered questions, last {days} days (times asked, best score, {header}question):")
    for gap in rows:
        score = "   -" if gap.best_score is None else f"{gap.best_score:.2f}"
        click.echo(f"{gap.times:5d}  {score}  {site(gap)}{printable(gap.question)}")


if __name__ == "__main__":
    main()
