"""Comptoir: one double-entry book per organization, served through four API dialects."""

__version__ = "0.1.0"
