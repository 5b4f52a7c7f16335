"""A fixed pool of asyncio workers sharing one iterator of work items.

Each worker takes the next item when it is free, so at most ``concurrency``
items are in progress and only ``concurrency`` tasks ever exist, however
many items there are.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

__all__ = ["run_pool"]

logger = logging.getLogger(__name__)

Item = TypeVar("Item")


async def run_pool(
    items: Iterable[Item],
    work: Callable[[Item], Awaitable[None]],
    *,
    concurrency: int,
    stop: asyncio.Event | None = None,
    stop_grace_seconds: float = 5.0,
) -> None:
    """Await ``work(item)`` for every item, ``concurrency`` at a time.

    Once ``stop`` is set no new item is started; items in progress get
    ``stop_grace_seconds`` to finish and are then cancelled. An exception
    from ``work`` cancels the others and propagates: ``work`` is expected to
    turn per-item failures into data itself.

    Example:
        >>> async def show(n):
        ...     print(n)
        >>> asyncio.run(run_pool(range(2), show, concurrency=4))
        0
        1
    """
    shared = iter(items)

    async def worker() -> None:
        # One shared iterator: each next() hands one item to one worker.
        for item in shared:
            if stop is not None and stop.is_set():
                return
            await work(item)

    workers = [asyncio.create_task(worker()) for _ in range(concurrency)]
    everything = asyncio.gather(*workers)
    try:
        await _until_done_or_stopped(everything, stop, stop_grace_seconds)
    finally:
        if not everything.done():
            everything.cancel()
        await asyncio.gather(everything, return_exceptions=True)


async def _until_done_or_stopped(
    everything: asyncio.Future[list[None]],
    stop: asyncio.Event | None,
    grace: float,
) -> None:
    """Wait for all workers; after ``stop``, for at most ``grace`` seconds more."""
    if stop is None:
        await everything
        return
    stopped: asyncio.Future[Any] = asyncio.ensure_future(stop.wait())
    waiting: set[asyncio.Future[Any]] = {everything, stopped}
    try:
        await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        if not everything.done():
            logger.info("stop requested: letting the work in progress finish")
            await asyncio.wait({everything}, timeout=grace)
        if everything.done():
            everything.result()
    finally:
        stopped.cancel()
        await asyncio.gather(stopped, return_exceptions=True)
