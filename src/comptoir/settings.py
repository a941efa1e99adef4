"""Settings, read once from environment variables prefixed with ``COMPTOIR_``.

Every setting is documented in docs/configuration.md; keep the two in step.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATA_DIR = Path("var")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="COMPTOIR_", extra="ignore")

    # Storage. SQLite is the embedded default; PostgreSQL is the production database.
    database_url: str = Field(default=f"sqlite:///{DEFAULT_DATA_DIR / 'comptoir.sqlite3'}")
    data_dir: Path = DEFAULT_DATA_DIR
    # Where uploaded files (invoice PDFs, attachments) are kept. Unset: data_dir/files.
    files_dir: Path | None = None

    # The URL clients reach the server at; used in links the server hands out.
    public_url: str = "http://127.0.0.1:8000"

    # Limits. "off" switches every rate limit off (the contract tests and benchmarks use it).
    rate_limits: str = "on"
    oneup_rate_limit: str = "1800/15 minutes"
    upflow_rate_limit: str = "600/minute"
    upflow_concurrent_requests_max: int = 10
    quipu_rate_limit: str = "5/5 seconds"
    # Failed authentications (a wrong key, secret, token, password or client secret) per client
    # address and dialect; past it every attempt from that address is 429 until the window ends.
    auth_failure_limit: str = "30/minute"
    # Where budgets and in-flight slots are kept. Unset: in each process's memory (one worker). Set
    # (redis://host:6379/0): in Redis, shared by every worker and machine that uses the same URL.
    redis_url: str | None = None

    # Largest JSON body accepted by any dialect, enforced while the body streams in.
    json_body_bytes_max: int = 1024 * 1024
    # Largest uploaded file (an invoice PDF, say), enforced while the body streams in.
    upload_bytes_max: int = 10 * 1024 * 1024
    # A request body that stops coming is cut off (408): nothing received for this long, or not whole
    # this long after its first bytes were awaited (comptoir/wire.BodyDeadline).
    body_idle_timeout_s: float = 5.0
    body_total_timeout_s: float = 60.0
    # The longest a customer portal link may live (Upflow's own limit: 1000 days).
    portal_link_days_max: int = 1000

    # OneConnect imports: the largest `file` and `entries` parts, each enforced while the body streams in.
    oneconnect_file_bytes_max: int = 5 * 1024 * 1024
    oneconnect_entries_bytes_max: int = 5 * 1024 * 1024

    # Webhooks (the outbox worker, `comptoir webhooks run`): attempts per event, the delay before the
    # second attempt (doubled after each failure, up to the maximum), the timeout of one POST, how
    # often an idle worker looks for due events, and whether `comptoir serve` runs a worker itself.
    webhook_attempts_max: int = 10
    webhook_retry_delay_s: float = 30.0
    webhook_retry_delay_max_s: float = 3600.0
    webhook_timeout_s: float = 10.0
    webhook_poll_interval_s: float = 1.0
    webhooks_in_serve: bool = False

    # Signs the session cookie of the login and consent pages, and the links the server hands out
    # (Upflow's pdfUrl, customer portal URLs). Unset: a random key is created once in
    # data_dir/secret_key (set it explicitly when several machines serve the same database).
    secret_key: str | None = None

    @model_validator(mode="after")
    def _default_files_dir(self) -> Settings:
        if self.files_dir is None:
            self.files_dir = self.data_dir / "files"
        return self

    def session_secret(self) -> str:
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if not path.exists():
            import os
            import secrets
            import tempfile

            # Written whole under a temporary name, then linked into place: worker processes starting
            # together all end up reading the one key that won, never an empty or half-written file.
            self.data_dir.mkdir(parents=True, exist_ok=True)
            descriptor, temporary = tempfile.mkstemp(dir=self.data_dir, prefix=".secret_key.")
            try:
                with os.fdopen(descriptor, "w") as file:
                    file.write(secrets.token_hex(32))
                os.link(temporary, path)
            except FileExistsError:
                pass
            finally:
                os.unlink(temporary)
        return path.read_text().strip()

    @property
    def rate_limits_enabled(self) -> bool:
        return self.rate_limits.strip().lower() not in {"off", "0", "false", "no"}


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
