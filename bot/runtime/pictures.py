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
import hashlib
import json
import logging
import multiprocessing
from collections import OrderedDict
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


class PictureCache:
    """Drawn charts kept in memory by what they show, for pictures a person may look at again
    and again (their home): reopening it costs no drawing, and a chart whose data changed is
    a new entry. Drawing happens only in `draw`, which callers run as background work after
    the words are already shown; `cached` never draws."""

    def __init__(self, renderer: PictureRenderer, size: int = 512) -> None:
        self.renderer = renderer
        self.size = size
        self._pngs: OrderedDict[str, bytes] = OrderedDict()
        self._tasks: set[asyncio.Task[Message]] = set()

    @staticmethod
    def fingerprint(chart: Chart) -> str:
        """What the chart shows (its kind, words, points and values): the same data, the same
        picture, whoever asks."""
        data = json.dumps(chart.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(data.encode()).hexdigest()

    def cached(self, message: Message) -> Message:
        """`message` with the PNG of each of its charts already drawn; the rest keep none."""
        if not message.charts:
            return message
        blocks = []
        for block in message.blocks:
            if isinstance(block, Chart) and block.png is None:
                png = self._pngs.get(self.fingerprint(block))
                if png is not None:
                    self._pngs.move_to_end(self.fingerprint(block))
                    block = block.model_copy(update={"png": png})
            blocks.append(block)
        return message.model_copy(update={"blocks": blocks})

    @staticmethod
    def missing(message: Message) -> bool:
        return any(chart.png is None for chart in message.charts)

    async def draw(self, message: Message) -> Message:
        """Draws the charts of `message` not drawn yet (in the renderer's process), keeps them,
        and returns `message` with every PNG that could be drawn."""
        message = self.cached(message)
        blocks = []
        for block in message.blocks:
            if isinstance(block, Chart) and block.png is None:
                png = await self.renderer.render(block)
                if png is not None:
                    self._keep(self.fingerprint(block), png)
                    block = block.model_copy(update={"png": png})
            blocks.append(block)
        return message.model_copy(update={"blocks": blocks})

    def draw_later(self, message: Message) -> None:
        """Draws the missing charts in the background, so the next look shows them."""
        if not self.missing(message):
            return
        task = asyncio.get_running_loop().create_task(self.draw(message))

        def done(finished: asyncio.Task[Message]) -> None:
            self._tasks.discard(finished)
            if not finished.cancelled() and finished.exception() is not None:
                log.warning("home charts not drawn: %s", finished.exception())

        self._tasks.add(task)
        task.add_done_callback(done)

    async def settle(self) -> None:
        """Waits for the background drawing started so far (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _keep(self, key: str, png: bytes) -> None:
        self._pngs[key] = png
        self._pngs.move_to_end(key)
        while len(self._pngs) > self.size:
            self._pngs.popitem(last=False)

    def cancel(self) -> None:
        """Shutdown: drawing in the background is never worth waiting for."""
        for task in self._tasks:
            task.cancel()
