"""Charts rendered in a process of their own, off every path a person waits on.

Drawing holds the GIL for tens to hundreds of milliseconds and matplotlib is a heavy import,
so neither may happen in a process answering Slack or Teams, nor on the event loop. The outbox
asks here just before it delivers a message with charts: one lazily started worker process
(spawned, so it shares nothing with the bot's loop) draws them, each with a timeout. A chart
that fails or times out keeps no PNG: adapters then show its text alternative instead.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import multiprocessing
from concurrent.futures.process import BrokenProcessPool

from bot.messages import Chart, Message

log = logging.getLogger("bot.pictures")

# The first chart also pays for starting the process and importing matplotlib (~1–2 s).
TIMEOUT_SECONDS = 30.0


class PictureRenderer:
    def __init__(self, timeout: float = TIMEOUT_SECONDS) -> None:
        self.timeout = timeout
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None
        # One draw at a time, so each timeout measures that chart's draw, not the queue of
        # charts ahead of it (several deliveries may ask at once).
        self._turn = asyncio.Lock()

    def _executor(self) -> concurrent.futures.ProcessPoolExecutor:
        if self._pool is None:
            self._pool = concurrent.futures.ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn")
            )
        return self._pool

    async def render(self, chart: Chart) -> bytes | None:
        """The chart as PNG bytes, or None (logged) if it could not be drawn in time."""
        from bot.runtime.drawing import render_png  # a name the worker imports, not matplotlib

        loop = asyncio.get_running_loop()
        try:
            async with self._turn:
                future = loop.run_in_executor(
                    self._executor(), render_png, chart.model_dump(mode="json")
                )
                return await asyncio.wait_for(future, self.timeout)
        except (TimeoutError, BrokenProcessPool) as error:
            # A stuck or dead worker: start afresh next time rather than queue behind it.
            log.warning("chart %s not drawn (%s); sending its text instead", chart.chart, error)
            self._reset()
            return None
        except Exception:
            log.exception("chart %s not drawn; sending its text instead", chart.chart)
            return None

    async def attach(self, message: Message) -> Message:
        """`message` with a PNG on each of its charts that could be drawn."""
        if not message.charts:
            return message
        blocks = []
        for block in message.blocks:
            if isinstance(block, Chart) and block.png is None:
                block = block.model_copy(update={"png": await self.render(block)})
            blocks.append(block)
        return message.model_copy(update={"blocks": blocks})

    def _reset(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            for process in list(getattr(pool, "_processes", {}).values()):
                process.kill()  # a hung draw would otherwise outlive the shutdown
            pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
