"""Quipu v1 (seeds/quipu-v1-reference-intro.md, specs/quipu.md): JSON:API, OAuth2 client credentials,
5 calls per 5 seconds with RateLimit headers. This package holds the identity layer of the dialect;
the resources arrive with the Quipu issue. Both path shapes are served: /quipu/users and
/quipu/{owner_slug}/users."""

from .app import build

__all__ = ["build"]
