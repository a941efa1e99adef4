"""Identity: credentials of every dialect, their secrets, and rate limits."""
