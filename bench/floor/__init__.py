"""The floor: the least a Python server does to give Comptoir's answers to the benchmark's requests,
on Comptoir's own tables (bench/floor/README.md). Raw ASGI, asyncpg, orjson; served by uvicorn like
`comptoir serve` (`uvicorn bench.floor.app:app --workers N --loop uvloop --http httptools`)."""
