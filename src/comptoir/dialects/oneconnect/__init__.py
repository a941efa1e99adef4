"""OneConnect by Shine v1 (seeds/oneconnect-v1-using-the-api.txt): partners' documents with
accounting entries. This package holds the identity layer of the dialect (partner tokens, integration
secrets, integration status and revocation); document import arrives with the OneConnect issue."""

from .app import build

__all__ = ["build"]
