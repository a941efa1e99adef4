"""OneUp v1 (seeds/oneup-v1-*.txt): REST over the whole accounting model, bare JSON arrays,
Basic auth with an API email and key."""

from .app import build

__all__ = ["build"]
