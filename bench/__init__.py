"""Comptoir's benchmark suite: `bench/run [--size small|medium|large]` (docs/performance.md)."""
