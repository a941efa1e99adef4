"""Settings, read once from environment variables prefixed with ``COMPTOIR_``.

Every setting is documented in docs/configuration.md; keep the two in step.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DATABASE_FILE = "comptoir.sqlite3"
DATABASE_URLS = ("sqlite:///PATH", "postgresql+psycopg://USER:PASSWORD@HOST:PORT/DBNAME")
SWITCH = {"on": True, "off": False, "true": True, "false": False, "yes": True, "no": False, "1": True, "0": False}


class BadSetting(Exception):
    """A setting Comptoir cannot run with; its message is one line naming the setting and what it accepts."""


def default_data_dir() -> Path:
    """Where the book and the server's files live when no setting says: one place, wherever a command is
    run from (docs/decisions/0033-where-the-book-lives.md). In a checkout (the package imported from
    its `src/`, as `pip install -e .` and scripts/setup leave it), the checkout's `var/`; installed
    elsewhere, the platform's data directory ($XDG_DATA_HOME/comptoir, ~/.local/share/comptoir)."""
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "pyproject.toml").is_file() and (checkout / "src" / "comptoir").is_dir():
        return checkout / "var"
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "comptoir"


def _accepts_rate(setting: str, example: str):
    def check(value: str) -> str:
        from limits import parse

        try:
            parse(value)
        except ValueError:
            raise ValueError(f"{setting} is {value!r}: it accepts a rate in the limits library's notation, "
                             f"as {example} or 100/second") from None
        return value
    return check


class Settings(BaseSettings):
    # A variable set empty (COMPTOIR_DATA_DIR=) is one unset: its default.
    model_config = SettingsConfigDict(env_prefix="COMPTOIR_", extra="ignore", env_ignore_empty=True)

    # Storage. SQLite is the embedded default; PostgreSQL is the production database.
    # Unset: data_dir/comptoir.sqlite3. postgresql:// and postgres:// are read as postgresql+psycopg://.
    database_url: str = ""
    data_dir: Path = Field(default_factory=default_data_dir)
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
    def _defaults(self) -> Settings:
        if self.files_dir is None:
            self.files_dir = self.data_dir / "files"
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / DATABASE_FILE}"
        return self

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        if not value.strip():
            return ""
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        accepts = f"it accepts {' or '.join(DATABASE_URLS)}"
        try:
            url = make_url(value.strip())
        except ArgumentError:
            raise ValueError(f"COMPTOIR_DATABASE_URL is not a database URL: {accepts}") from None
        if url.drivername in ("postgresql", "postgres"):
            url = url.set(drivername="postgresql+psycopg")
        if url.drivername not in ("sqlite", "sqlite+pysqlite", "postgresql+psycopg"):
            raise ValueError(f"COMPTOIR_DATABASE_URL names {url.drivername}://, which Comptoir does not run on: "
                             f"{accepts}")
        if url.drivername == "postgresql+psycopg" and not url.database:
            raise ValueError(f"COMPTOIR_DATABASE_URL names no PostgreSQL database: {accepts}")
        return url.render_as_string(hide_password=False)

    @field_validator("rate_limits")
    @classmethod
    def _switch(cls, value: str) -> str:
        if value.strip().lower() not in SWITCH:
            raise ValueError(f"COMPTOIR_RATE_LIMITS is {value!r}: it accepts on or off")
        return value

    _oneup_rate = field_validator("oneup_rate_limit")(_accepts_rate("COMPTOIR_ONEUP_RATE_LIMIT", "1800/15 minutes"))
    _upflow_rate = field_validator("upflow_rate_limit")(_accepts_rate("COMPTOIR_UPFLOW_RATE_LIMIT", "600/minute"))
    _quipu_rate = field_validator("quipu_rate_limit")(_accepts_rate("COMPTOIR_QUIPU_RATE_LIMIT", "5/5 seconds"))
    _auth_rate = field_validator("auth_failure_limit")(_accepts_rate("COMPTOIR_AUTH_FAILURE_LIMIT", "30/minute"))

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value and value.split("://", 1)[0] not in ("redis", "rediss", "unix"):
            raise ValueError(f"COMPTOIR_REDIS_URL is {value!r}: it accepts redis://HOST:PORT/DB, rediss:// or unix://")
        return value or None

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
        return SWITCH[self.rate_limits.strip().lower()]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process; `BadSetting` (one line) when one cannot be used."""
    try:
        return Settings()
    except ValidationError as error:
        raise BadSetting(describe(error)) from error


def describe(error: ValidationError) -> str:
    """A line per setting refused: our own checks say what they accept; pydantic's, the type it wants."""
    lines = []
    for problem in error.errors():
        if problem["type"] == "value_error":
            lines.append(str(problem["ctx"]["error"]))
        else:
            name = "COMPTOIR_" + "_".join(str(part) for part in problem["loc"]).upper()
            lines.append(f"{name} is {problem.get('input')!r}: {problem['msg'].lower()} (docs/configuration.md)")
    return "; ".join(lines)
