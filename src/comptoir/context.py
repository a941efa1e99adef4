"""What every part of a running server shares: settings, the database, the rate limiter."""

from __future__ import annotations

from dataclasses import dataclass

from comptoir.auth.limits import RateLimiter
from comptoir.settings import Settings
from comptoir.storage.database import Database


@dataclass
class Context:
    settings: Settings
    database: Database
    limiter: RateLimiter

    @classmethod
    def from_settings(cls, settings: Settings) -> Context:
        return cls(settings, Database(settings.database_url), RateLimiter(settings))
