"""Settings: environment variables (`IMAGEGATE_*`) over an optional `config.toml`.

The config file lives in the data directory (or at `IMAGEGATE_CONFIG`); unknown keys in it are
an error. Provider keys are not settings: each provider reads its own conventional variable.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from imagegate.errors import ConfigurationError


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
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)

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
    def user_catalog(self) -> Path | None:
        if self.catalog is not None:
            return self.catalog
        candidate = self.home / "catalog.json"
        return candidate if candidate.exists() else None


def load_settings(**overrides: Any) -> Settings:
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}" for error in exc.errors()
        )
        raise ConfigurationError(f"invalid settings: {problems}") from exc
