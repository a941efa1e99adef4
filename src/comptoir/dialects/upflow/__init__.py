"""Upflow v1 (seeds/upflow-v1-integration-guide.txt): receivables imported by externalId, amounts in
cents, X-Api-Key and X-Api-Secret headers. This package holds the identity layer of the dialect
(authentication, limits, errors); the resources arrive with the Upflow issue."""

from .app import build

__all__ = ["build"]
