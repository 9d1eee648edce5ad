"""All of Beacon's settings in one place, read from flags or BEACON_* environment variables at the edge."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every field can be set as BEACON_<NAME>, e.g. BEACON_CORPUS_DIR=./my-corpus."""

    model_config = SettingsConfigDict(env_prefix="BEACON_", extra="ignore")

    corpus_dir: Path = Field(Path("corpus"), description="Folder of curated .md/.txt files.")
    index_dir: Path = Field(Path(".beacon/index"), description="Where index versions are published.")
    model: str = Field("all-MiniLM-L6-v2", description=(
        "Sentence-transformers model: the bundled default, a local folder, or a cached hub name."))
    host: str = Field("127.0.0.1", description="Address the web service listens on.")
    port: int = Field(8000, ge=1, le=65535, description="Port the web service listens on.")
    default_k: int = Field(5, ge=1, le=50, description="Results returned when a request gives no k.")
    max_k: int = Field(20, ge=1, le=100, description="Largest k a request may ask for.")
    max_query_chars: int = Field(512, ge=16, le=4096, description="Longer questions get a 422.")
    min_answer_score: float = Field(0.35, description="Cosine below which no answer is given.")
    public_url: str | None = Field(None, description=(
        "Base URL used in permalinks (e.g. https://beacon.example.org); defaults to the request's."))
    reload_interval: float = Field(1.0, ge=0, le=3600, description=(
        "Seconds between checks for a newly published index (each worker swaps it in live); 0 turns it off."))
    keep_versions: int = Field(3, ge=1, le=100, description=(
        "Index versions kept after a build, the live one included, for 'beacon rollback'."))
    admin_token: SecretStr | None = Field(None, min_length=16, description=(
        "Enables POST /admin/reload and /admin/rebuild for 'Authorization: Bearer <token>'; "
        "unset, those routes do not exist."))
