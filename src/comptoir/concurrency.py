"""Blocking calls from a unit of work that may be running on the event loop.

A request's unit of work runs as ordinary synchronous code: on PostgreSQL inside a greenlet of the
event loop (storage/database.Database.run), on SQLite in a worker thread. A call that waits on
something other than the database (a Redis round trip of the rate limiter, a file's fsync) must not
hold up the event loop: `off_the_loop` runs it in a worker thread while the loop serves other
requests. Everywhere else (a worker thread, the CLI, a test) it simply calls it."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

import anyio.to_thread
from sqlalchemy.util import await_only
from sqlalchemy.util.concurrency import in_greenlet

T = TypeVar("T")


def off_the_loop(call: Callable[..., T], *args: Any) -> T:
    """`call(*args)`, in a worker thread when the caller is a unit of work on the event loop."""
    if in_greenlet():
        return await_only(anyio.to_thread.run_sync(partial(call, *args)))
    return call(*args)
