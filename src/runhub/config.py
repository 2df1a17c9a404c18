"""Settings from `RUNHUB_*` environment variables and an optional env file (`RUNHUB_CONFIG`)."""

from __future__ import annotations

import os
import secrets
from functools import cached_property
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "runhub"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="RUNHUB_", env_file=os.environ.get("RUNHUB_CONFIG", "runhub.env"), extra="ignore"
    )

    data_dir: Path = default_data_dir()
    database_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    max_upload_bytes: int = 100 * 1024 * 1024
    secret_key: str | None = None
    test_approval: bool = False
    access_token_seconds: int = 6 * 3600
    smashrun_access_token_seconds: int = 12 * 7 * 86400
    rate_limit_15min: int = 600
    rate_limit_daily: int = 30000

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'runhub.sqlite3'}"

    @cached_property
    def signing_key(self) -> str:
        """The secret for sessions and JWTs: configured, else made once and kept in the data dir."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret.key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()

    def ensure_data_dir(self) -> Path:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return self.data_dir


def get_settings() -> Settings:
    return Settings()
