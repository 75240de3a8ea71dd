"""Typed lines from the terminal without holding up Ctrl-C or the end of the program.

`asyncio.to_thread(input)` left a thread blocked in `input()`: `asyncio.run` waits for it at
exit, so Ctrl-C hung until Enter (and a daemon thread instead aborts the interpreter, which
cannot take stdin's lock at shutdown). So the loop itself watches standard input: a terminal
in its ordinary line mode hands over whole lines, edited by the terminal as usual.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable

LineReader = Callable[[str], Awaitable[str]]


class StandardInput:
    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._pending = b""
        self._ended = False

    async def read_line(self, prompt: str) -> str:
        """The next line typed after `prompt`; EOFError at the end of input."""
        sys.stdout.write(prompt)
        sys.stdout.flush()
        while b"\n" not in self._pending and not self._ended:
            await self._readable()
            chunk = os.read(self.fd, 4096)
            self._ended = not chunk
            self._pending += chunk
        line, newline, self._pending = self._pending.partition(b"\n")
        if not line and not newline:
            raise EOFError
        return line.decode(errors="replace")

    async def _readable(self) -> None:
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[None] = loop.create_future()
        try:
            loop.add_reader(self.fd, lambda: ready.done() or ready.set_result(None))
        except PermissionError:  # a regular file (`< script.txt`): reading never waits
            return
        try:
            await ready  # Ctrl-C cancels here, and nothing is left behind
        finally:
            loop.remove_reader(self.fd)


_stdin: StandardInput | None = None


async def read_line(prompt: str) -> str:
    global _stdin
    if _stdin is None:
        _stdin = StandardInput(sys.stdin.fileno())
    return await _stdin.read_line(prompt)
