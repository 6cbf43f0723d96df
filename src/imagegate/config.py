"""Settings: environment variables (`IMAGEGATE_*`) over an optional `config.toml`.

The config file lives in the data directory (or at `IMAGEGATE_CONFIG`); unknown keys in it are
an error. Provider keys are not settings: each provider reads its own conventional variable.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from imagegate.catalog.catalog import DEFAULT_MAX_PROMPT_LENGTH
from imagegate.errors import ConfigurationError
from imagegate.media.limits import MediaLimits


def default_home() -> Path:
    return Path(os.environ.get("IMAGEGATE_HOME") or Path.home() / ".imagegate").expanduser()


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="IMAGEGATE_", extra="forbid")

    home: Path = Field(default_factory=default_home, description="data directory")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default: SQLite file in the data directory"
    )
    catalog: Path | None = Field(
        default=None,
        description="a user catalog file layered over the bundled one; "
        "default: catalog.json in the data directory when it exists",
    )
    catalog_reload_seconds: float = Field(
        default=5.0,
        ge=0,
        description="how often a running gateway looks at the user catalog file (its "
        "modification time and size): a changed file is loaded without a restart, a bad one "
        "is logged and the catalog in use kept; 0: never",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    workers: int = Field(
        default=0,
        ge=0,
        le=64,
        description="processes `imagegate serve` runs on its one port; they share rate limits, "
        "circuits and endpoint health through the database (or Redis); 0: one per core, at "
        "most 8",
    )
    public_url: str | None = Field(
        default=None,
        description="base URL clients reach the gateway at, for media links; default: the "
        "URL each request came in on",
    )
    max_body_bytes: int = Field(default=64 * 1024 * 1024, ge=1024, description="request body limit")
    max_input_image_bytes: int = Field(
        default=20 * 1024 * 1024, ge=1, description="per input image"
    )
    max_input_pixels: int = Field(default=40_000_000, ge=1, description="per input image")
    max_input_images: int = Field(default=16, ge=1, description="reference images per request")
    max_prompt_length: int = Field(
        default=DEFAULT_MAX_PROMPT_LENGTH,
        ge=1,
        description="characters in a prompt or negative prompt (and any text value of a JSON "
        "body), for endpoints that publish no limit of their own",
    )
    cpu_workers: int = Field(
        default=0,
        ge=0,
        description="threads for CPU-heavy work (decoding, encoding, converting, rendering "
        "images, parsing large bodies), off the event loop; 0: one per core",
    )
    decode_memory_bytes: int = Field(
        default=256 * 1024 * 1024,
        ge=1024 * 1024,
        description="decoded pixels that decoding, converting and rendering images may hold "
        "at once; work that needs more waits its turn (one job larger than this runs alone)",
    )
    fetch_allow_networks: str = Field(
        default="",
        description="comma-separated networks (CIDR) image URLs may resolve to although they "
        "are private, e.g. 10.0.0.0/8; default: public addresses only",
    )
    fetch_timeout_seconds: float = Field(default=20.0, gt=0, description="fetching image URLs")
    provider_timeout_seconds: float = Field(default=120.0, gt=0, description="per provider attempt")
    cors_origins: str = Field(
        default="",
        description="comma-separated origins browser apps may call the gateway from "
        "(https://app.example.com), or * for any; default: none (CORS off)",
    )
    console: bool = Field(
        default=True,
        description="serve the web console at / and /console/ (a client of the public APIs)",
    )
    media_url_ttl_seconds: int = Field(default=3600, ge=1, description="lifetime of image URLs")
    video_ttl_seconds: int = Field(
        default=24 * 3600,
        ge=1,
        description="how long a generated video can be downloaded; after that its content "
        "answers 410 Gone",
    )
    thumbnail_ttl_seconds: int = Field(
        default=30 * 24 * 3600,
        ge=0,
        description="how long the WebP thumbnail kept of each generated image (and each "
        "video's first frame) is served, for the generation record; 0: keep none, make none",
    )
    thumbnail_size: int = Field(
        default=256,
        ge=16,
        le=2048,
        description="the longest side of a thumbnail, in pixels (aspect kept; a smaller image "
        "keeps its size)",
    )
    media_backend: Literal["filesystem", "postgresql"] = Field(
        default="filesystem",
        description="where videos are kept: files under the data directory's media/ (one "
        "machine, or a shared volume), or the PostgreSQL database in 1 MiB chunks (replicas "
        "that share nothing else)",
    )
    media_dir: Path | None = Field(
        default=None,
        description="the filesystem backend's directory for videos (and, in its scratch/, "
        "videos on their way in); default: media/ in the data directory",
    )
    fault_switches_for_keys: bool = Field(
        default=False,
        description="let API keys use the sandbox's fault switches (fail, delay_ms), for a "
        "staging gateway; default: only the master key, or a gateway without keys",
    )
    master_key: SecretStr | None = Field(
        default=None,
        description="admin key for /api/v1/keys; required to listen beyond loopback",
    )
    redis_url: str | None = Field(
        default=None,
        description="Redis for rate limits and endpoint health shared by replicas; default: "
        "kept in each process",
    )
    hold_seconds: float = Field(
        default=900,
        gt=0,
        description="how long a pending generation's cost estimate is held against its key; "
        "after it, a pending record is taken for a stopped gateway's (keep it above "
        "request_deadline_seconds)",
    )
    idempotency_ttl_seconds: int = Field(
        default=86400, ge=60, description="how long a result stays replayable by Idempotency-Key"
    )
    job_lease_seconds: float = Field(
        default=30,
        gt=0,
        description="how long a worker holds a job without renewing it; after it, another "
        "worker (or this one restarted) takes the job over",
    )
    job_concurrency: int = Field(
        default=4, ge=1, description="jobs each serve process runs at once"
    )
    job_ttl_seconds: int = Field(
        default=86400,
        ge=60,
        description="how long a job and its result are kept: a job still queued then expires "
        "(its hold released), a completed one expires with its result",
    )
    shutdown_grace_seconds: float = Field(
        default=30,
        ge=0,
        description="on SIGTERM, how long requests and jobs in flight may run on; then they "
        "are stopped (recorded as interrupted) and unfinished jobs handed back",
    )
    retries: int = Field(
        default=2, ge=0, le=10, description="further rounds over the endpoints after a failure"
    )
    retry_backoff_seconds: float = Field(
        default=0.5, ge=0, description="wait before the first retry round, doubling after"
    )
    retry_after_cap_seconds: float = Field(
        default=10.0, ge=0, description="the longest Retry-After an upstream can make it wait"
    )
    request_deadline_seconds: float = Field(
        default=300.0, gt=0, description="the whole request, across every attempt"
    )
    video_timeout_seconds: float = Field(
        default=900.0,
        gt=0,
        description="per provider attempt at a video (videos take minutes); an attempt that "
        "runs out while its provider holds a task polls that task again",
    )
    video_deadline_seconds: float = Field(
        default=3600.0, gt=0, description="a whole video generation, across every attempt"
    )
    circuit_threshold: int = Field(
        default=3, ge=0, description="failures in a row that open an endpoint's circuit; 0: off"
    )
    allocator_tuning: bool = Field(
        default=True, description="keep image-sized buffers for reuse (glibc; see allocator.py)"
    )
    circuit_cooldown_seconds: float = Field(
        default=30.0, gt=0, description="how long an open circuit keeps an endpoint out"
    )
    metrics: bool = Field(
        default=True, description="serve GET /metrics (Prometheus) and count for it; false: off"
    )
    metrics_public: bool = Field(
        default=False,
        description="let anyone read /metrics; default: the master key is needed once one is set",
    )
    metrics_key_label: bool = Field(
        default=False,
        description="label cost with a short hash of each API key's id (one series per key)",
    )
    trace_prompts: bool = Field(
        default=False,
        description="put the prompt (credentials redacted) on generation spans; default: never",
    )
    webhook_secret: SecretStr | None = Field(
        default=None,
        description="the gateway's webhook signing secret (whsec_ + base64 of 24 to 64 bytes), "
        "for jobs whose key has none of its own (the master key's, a gateway without keys); "
        "default: such webhooks are not sent",
    )
    webhook_timeout_seconds: float = Field(
        default=10.0, gt=0, description="how long a webhook receiver has to answer an attempt"
    )
    webhook_retry_schedule: str = Field(
        default="5,300,1800,7200,18000,36000,50400,72000,86400",
        description="seconds between a job webhook's failed attempts, comma-separated: after "
        "the last, the webhook has failed; default: Standard Webhooks' 5 s to 24 h (75 h in all)",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        config_file = Path(os.environ.get("IMAGEGATE_CONFIG") or default_home() / "config.toml")
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, config_file))

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{self.home / 'imagegate.db'}"

    @property
    def scratch(self) -> Path:
        """Where videos are written on their way into the media store: beside it, so taking
        one in is a rename."""
        return self.media_directory / "scratch"

    @property
    def media_directory(self) -> Path:
        return self.media_dir or self.home / "media"

    @property
    def media_limits(self) -> MediaLimits:
        return MediaLimits(
            max_image_bytes=self.max_input_image_bytes,
            max_image_pixels=self.max_input_pixels,
            max_input_images=self.max_input_images,
        )

    @property
    def user_catalog(self) -> Path | None:
        """The user catalog file to load, when there is one."""
        candidate = self.user_catalog_path
        return candidate if self.catalog is not None or candidate.exists() else None

    @property
    def user_catalog_path(self) -> Path:
        """Where the user catalog file is (or would be): what `catalog sync` writes and a
        running gateway watches."""
        return self.catalog if self.catalog is not None else self.home / "catalog.json"


def load_settings(**overrides: Any) -> Settings:
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}" for error in exc.errors()
        )
        raise ConfigurationError(f"invalid settings: {problems}") from exc
