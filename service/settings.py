"""All of Beacon's settings in one place, read from flags or BEACON_* environment variables at the edge."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    """Every field can be set as BEACON_<NAME>, e.g. BEACON_CORPUS_DIR=./my-corpus."""

    model_config = SettingsConfigDict(env_prefix="BEACON_", extra="ignore")

    corpus_dir: Path = Field(
        Path("corpus"), description="Folder of content: Markdown, HTML, PDF, reStructuredText or text files."
    )
    index_dir: Path = Field(Path(".beacon/index"), description="Where index versions are published.")
    sites_file: Path | None = Field(
        None,
        description=(
            "A server file naming several sites ([sites.NAME] tables with corpus and index folders), served by "
            "one process; unset, one site: corpus_dir and index_dir (docs/sites.md)."
        ),
    )
    max_loaded_sites: int = Field(
        0,
        ge=0,
        le=10_000,
        description=(
            "With a server file: at most this many sites' indexes in memory besides the first site's, each loaded "
            "on its first request and the least recently used evicted; 0 loads every site at start-up."
        ),
    )
    model: str = Field(
        "all-MiniLM-L6-v2",
        description=("Sentence-transformers model: the bundled default, a local folder, or a cached hub name."),
    )
    host: str = Field("127.0.0.1", description="Address the web service listens on.")
    port: int = Field(8000, ge=1, le=65535, description="Port the web service listens on.")
    default_k: int = Field(5, ge=1, le=50, description="Results returned when a request gives no k.")
    max_k: int = Field(20, ge=1, le=100, description="Largest k a request may ask for.")
    max_query_chars: int = Field(512, ge=16, le=4096, description="Longer questions get a 422.")
    min_answer_score: float = Field(
        0.5,
        ge=0,
        le=1,
        description=("Calibrated confidence (0-1) below which no answer is given; see docs/quality.md."),
    )
    # Unset, the weights come from the site file the index was built with, else index/fusion.py's
    # defaults (written out here: importing index loads FAISS; a test holds them equal); set, they
    # override the site file's, as every flag and variable does.
    dense_weight: float | None = Field(
        None,
        ge=0,
        description="Weight of semantic (embedding) ranking in hybrid fusion [default: the site file's, else 1.0].",
    )
    lexical_weight: float | None = Field(
        None,
        ge=0,
        description="Weight of BM25 (exact word) ranking in hybrid fusion [default: the site file's, else 0.5].",
    )
    public_url: str | None = Field(
        None,
        description=(
            "Base URL used in API permalinks (e.g. https://beacon.example.org); unset, links are relative paths. "
            "Never taken from the request's Host."
        ),
    )
    # The defaults and choices that index/ owns (the encoders, the model, the answer threshold, versions
    # kept) are repeated here so reading settings loads no FAISS or torch; tests/service/test_settings.py
    # checks each against index's own.
    # fp32 onnx by default: on the held-out question sets int8 answered one fewer question right and
    # refused one more answerable one (docs/performance.md, "The default encoder").
    encoder: Literal["auto", "onnx", "onnx-int8", "torch"] = Field(
        "onnx",
        description=(
            "How the model runs: onnx (exported once from the local weights, ~3x less CPU per query than torch, "
            "same vectors), auto (onnx-int8 on a CPU with VNNI/AMX int8 instructions, else onnx), "
            "onnx-int8 (queries quantised, faster, cosine ~0.99 to fp32) or torch."
        ),
    )
    encoder_threads: int = Field(
        1,
        ge=0,
        le=64,
        description=("Threads per worker for encoding a query (0 = all cores); workers, not threads, use the cores."),
    )
    query_cache: int = Field(
        1024,
        ge=0,
        le=1_000_000,
        description=("Recent questions whose results are kept per worker (0 turns the cache off)."),
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        ["*"],
        description=(
            "Origins whose pages may call /api/search (GET) and /api/feedback (POST) from the browser (the search "
            "widget), comma-separated; * allows any. Never with credentials."
        ),
    )
    reload_interval: float = Field(
        1.0,
        ge=0,
        le=3600,
        description=(
            "Seconds between checks for a newly published index (each worker swaps it in live); 0 turns it off."
        ),
    )
    keep_versions: int = Field(
        3,
        ge=1,
        le=100,
        description=("Index versions kept after a build, the live one included, for 'beacon rollback'."),
    )
    admin_token: SecretStr | None = Field(
        None,
        min_length=16,
        description=(
            "Enables POST /admin/reload and /admin/rebuild for 'Authorization: Bearer <token>'; "
            "unset, those routes do not exist."
        ),
    )
    # Hardening: see docs/security.md for the threat each one answers.
    frame_ancestors: str = Field(
        "'self'",
        description=(
            "CSP frame-ancestors for pages: who may frame Beacon, e.g. \"'self' https://clinic.example.org\"."
        ),
    )
    rate_limit_per_minute: int = Field(
        120, ge=0, description=("Searches per minute per client IP (token bucket); 0 turns rate limiting off.")
    )
    rate_limit_burst: int = Field(30, ge=1, description="Searches a client may make at once before the rate applies.")
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description=(
            "Peer IPs or CIDR ranges whose X-Forwarded-For and X-Forwarded-Proto are believed (a reverse proxy); "
            "empty means the peer address is the client."
        ),
    )
    max_concurrent_searches: int = Field(
        16,
        ge=1,
        description=("Searches in flight per worker; more get a quick 503 with Retry-After instead of queueing."),
    )
    request_timeout_s: float = Field(10.0, gt=0, description="A search running longer gets a 503.")
    max_header_bytes: int = Field(16384, ge=1024, description="Requests with larger headers in total get a 431.")
    shutdown_grace_s: int = Field(20, ge=0, description="On SIGTERM, seconds to let in-flight requests finish.")
    query_log_path: Path | None = Field(
        None,
        description=(
            "SQLite file for the curators' gap log (unanswered questions, time, top score), the questions asked and "
            '"Did this help?" votes (service/feedback.py); off when unset.'
        ),
    )
    query_log_retention_days: int = Field(30, ge=1, description="Entries of the gap log older than this are deleted.")
    log_format: str = Field("json", pattern="^(json|text)$", description="Service log lines: json or text.")
    # The site: see docs/curating.md, "The site file (beacon.toml)". These override the file's values.
    site_config: Path | None = Field(
        None,
        description=(
            "The site settings file (default: beacon.toml at the corpus root, if there is one); for a read-only "
            "content folder such as /usr/share/doc/python3.11/html."
        ),
    )
    base_url: str | None = Field(
        None,
        description=(
            "Public address of the corpus root, e.g. https://docs.python.org/3.11/: results link to base_url + the "
            "page's path + #section instead of /source/. Overrides the site file's base_url (at build time)."
        ),
    )
    on_error: Literal["stop", "skip"] | None = Field(
        None,
        description=(
            "A file that cannot be read: 'stop' fails the build, 'skip' leaves it out with an error line. "
            "Overrides the site file's on_error."
        ),
    )
    # Replicas: see docs/deploy.md.
    publish_url: str | None = Field(
        None,
        description=(
            "Object storage (s3://, gs://, az://, file:// or a path) where 'beacon build' also publishes each "
            "version, moving the remote CURRENT pointer last; 'beacon rollback' then moves that pointer."
        ),
    )
    index_url: str | None = Field(
        None,
        description=(
            "Object storage a replica mirrors: it downloads the live version into index_dir, checks every file's "
            "SHA-256, and swaps it in live; it never builds."
        ),
    )
    remote_poll_interval: float = Field(
        10.0,
        gt=0,
        le=3600,
        description=(
            "Mean seconds between a replica's reads of the remote pointer (each wait jittered 0.5-1.5x; "
            "doubled after each failure, up to 300 s)."
        ),
    )
    remote_startup_timeout: float = Field(
        120.0,
        ge=0,
        le=3600,
        description=("How long a replica with no local index waits at start-up for the first download."),
    )
    # index/remote.py's MAX_FILE_BYTES, repeated so settings load no FAISS (tests/index/test_remote.py checks).
    remote_max_file_bytes: int = Field(
        2 * 2**30,
        ge=2**20,
        description=(
            "Largest file of a version a replica downloads, in bytes: one the store says is larger is refused "
            "before it is read, one that turns out larger is cut off at the cap."
        ),
    )
    signing_key_file: Path | None = Field(
        None,
        description=(
            "A file holding the key (32 bytes or more) that 'beacon build --publish-to' signs each version with, "
            "and that a replica checks them with: set on a replica, unsigned or wrongly signed versions are refused."
        ),
    )
    drain_s: float = Field(
        0.0,
        ge=0,
        le=300,
        description=(
            "On SIGTERM, seconds /readyz answers 503 while requests are still served, before the shutdown grace "
            "period; set it above the balancer's check interval (e.g. 5 with Kubernetes' default probes)."
        ),
    )
    # Hardening, round two (docs/security.md): proxies, Host, connections, the gap log's size.
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description=(
            "Host names readers may use, comma-separated (*.example.org wildcards, * for any); other Host "
            "headers get a 400. Empty: 127.0.0.1, localhost, ::1, the listening address and BEACON_PUBLIC_URL's host."
        ),
    )
    query_log_max_rows: int = Field(
        100_000, ge=100, description=("Most entries the gap log keeps; the oldest go first (about 100 bytes each).")
    )
    header_timeout_s: float = Field(
        10.0,
        gt=0,
        le=300,
        description=(
            "A connection that has not sent a complete request head within this many seconds is closed (slowloris)."
        ),
    )
    keep_alive_timeout_s: float = Field(
        5.0, gt=0, le=300, description=("An idle keep-alive connection is closed after this many seconds.")
    )
    max_connections: int = Field(
        1000,
        ge=1,
        description=(
            "Open connections and requests per worker beyond which new requests get a quick 503 (uvicorn limit_concurrency)."
        ),
    )

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value):
        if isinstance(value, str):
            value = [h for h in (part.strip(" \t'\"") for part in value.strip("[] ").split(",")) if h]
        return [h.lower() for h in value]

    @field_validator("admin_token")
    @classmethod
    def _token_has_entropy(cls, value):
        # 16 spaces or "aaaaaaaaaaaaaaaa" pass a length check; an attacker guesses them first.
        if value is None:
            return value
        token = value.get_secret_value()
        if token != token.strip() or any(c.isspace() for c in token):
            raise ValueError(
                "the admin token must not contain spaces or line breaks; "
                "make one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'"
            )
        if len(set(token)) < 8:
            raise ValueError(
                "the admin token is too easy to guess (fewer than 8 different characters); "
                "make one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'"
            )
        return value

    def trusted_hosts(self) -> list[str]:
        """allowed_hosts, or the local names plus the listening address and the public URL's host."""
        if self.allowed_hosts:
            return self.allowed_hosts
        from urllib.parse import urlsplit

        hosts = ["127.0.0.1", "localhost", "[::1]", "::1"]
        if self.host not in ("0.0.0.0", "::", ""):
            hosts.append(self.host.lower())
        if self.public_url and urlsplit(self.public_url).hostname:
            hosts.append(urlsplit(self.public_url).hostname.lower())
        return hosts

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value):
        if isinstance(value, str):
            # A comma-separated list, or a JSON list literal.
            value = [o for o in (part.strip(" \t'\"") for part in value.strip("[] ").split(",")) if o]
        for origin in value:
            # "null" is what sandboxed iframes and file:// pages send; allowing it lets any page in.
            if origin.lower() == "null":
                raise ValueError("cors_origins must not contain 'null': list real origins such as https://example.org")
            if origin != "*" and not origin.startswith(("http://", "https://")):
                raise ValueError(f"cors_origins entry {origin!r} must be * or an origin like https://example.org")
        return [o if o == "*" else o.rstrip("/") for o in value]

    def site(self):
        """The ingest.Site: the site file (or a lenient default without one), overridden by these settings."""
        from ingest.site import load_site

        return load_site(self.corpus_dir, self.site_config).with_overrides(
            base_url=self.base_url, on_error=self.on_error
        )

    def search_settings(self):
        """The index.SearchSettings these settings ask for (imported here: index loads FAISS and torch)."""
        from index import SearchSettings

        return SearchSettings(
            min_answer_score=self.min_answer_score,
            dense_weight=self.dense_weight,
            lexical_weight=self.lexical_weight,
        )


# uvicorn's workers are separate processes started from an import string; `beacon serve` hands them its
# settings as this one JSON value (flags included), read back by service.app.create_app_from_env.
WORKER_SETTINGS = "BEACON_WORKER_SETTINGS"


def settings_for_workers(settings: Settings) -> str:
    values = settings.model_dump(mode="json", exclude_none=True)
    if settings.admin_token is not None:
        values["admin_token"] = settings.admin_token.get_secret_value()  # dumped as '**********' otherwise
    return json.dumps(values)


def settings_from_workers_env(environ) -> Settings:
    """The settings `beacon serve` handed over, else BEACON_* variables (uvicorn started by hand)."""
    raw = environ.get(WORKER_SETTINGS)
    return Settings(**json.loads(raw)) if raw else Settings()
