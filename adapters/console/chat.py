"""A terminal chat on the real core: type commands as any user and see what everyone sees."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Callable, Collection

from adapters.console.keyboard import LineReader, read_line
from adapters.console.platform import WORKSPACE, ConsolePlatform, format_message
from bot.app import Application
from bot.messages import Message
from bot.people.actor import Actor

# "@bob" → "<@bob>", but not e-mail addresses and not @here/@channel/@everyone.
_HANDLE = re.compile(r"(?<![\w<@])@(?!(?:here|channel|everyone|all)\b)([A-Za-z][\w.-]*)")
_CHANNEL = re.compile(r"^#?([a-z0-9][\w-]*)$")
# "#support" → "<#support>" when such a channel exists (as Slack links only real channels), so
# "#easy" stays a kudos tag.
_CHANNEL_REF = re.compile(r"(?<![\w<&#])#([a-z0-9][\w-]*)", re.IGNORECASE)

WELCOME = """\
Kudos & Pulse console — you are @{user} in #{channel}.
Try:  /kudos @bob thanks for the fast refund #easy     /kudos help
      /as NAME  switch user   /in CHANNEL  switch channel   /quit  leave"""

CONSOLE_HELP = (
    "In this console: /as NAME  type as someone else · /in CHANNEL  type in another channel · "
    "/quit  leave (or Ctrl-C, Ctrl-D)"
)


def neutral_text(line: str, channels: Collection[str] = ()) -> str:
    line = _HANDLE.sub(lambda match: f"<@{match.group(1).lower()}>", line)

    def channel(match: re.Match[str]) -> str:
        name = match.group(1).lower()
        return f"<#{name}>" if name in channels else match.group(0)

    return _CHANNEL_REF.sub(channel, line)


class ConsoleChat:
    def __init__(
        self,
        app: Application,
        platform: ConsolePlatform,
        user: str,
        channel: str = "general",
        out: Callable[[str], None] = print,
    ) -> None:
        self.app = app
        self.platform = platform
        self.user = user.lstrip("@").lower()
        self.channel = channel.lstrip("#").lower()
        self.out = out
        self.platform.seen(self.channel, self.user)
        # One turn at a time: a typed line's answers, or what the scheduler sent meanwhile,
        # so their lines never interleave.
        self._turn = asyncio.Lock()

    @property
    def actor(self) -> Actor:
        return Actor(
            platform="console",
            workspace_id=WORKSPACE,
            user_id=self.user,
            channel_id=self.channel,
            display_name=self.user,
            workspace_name="console",
        )

    async def say(self, line: str) -> bool:
        """Handle one typed line; False when the user wants to leave."""
        line = line.strip()
        if not line:
            return True
        word, _, rest = line.partition(" ")
        word = word.lower()
        if word in {"/quit", "/exit"}:
            return False
        if word == "/as":
            return self._switch_user(rest)
        if word == "/in":
            return self._switch_channel(rest)
        async with self._turn:
            text = neutral_text(line, self.platform.channels)
            self.platform.seen(self.channel, self.user)
            reply = await self.app.core.handle_text(self.actor, text)
            for message in reply.messages:
                self.out(format_message(message, self.user, terminal=self.platform.terminal))
                if message.home and message.charts:
                    await self._home_pictures(message)
            if word == "/help":  # the console's own words are nowhere else
                self.out(CONSOLE_HELP)
            await self.app.outbox.drain()
        return True

    async def _home_pictures(self, message: Message) -> None:
        """A lead's team maps, after the home's words: drawn in the picture process (or taken
        from its cache) and saved as files, since a terminal shows no pictures."""
        drawn = await self.app.home_pictures.draw(message)
        sender = self.platform.sender(WORKSPACE)
        for path in sender.save_charts(drawn, f"home-{self.user}"):
            self.out(f"    saved as {path}")

    async def catch_up(self) -> None:
        """Do what fell due while the person was typing (close rounds, send digests), as `run`
        does every tick — so what the next line shows never lags behind the clock."""
        await self.app.scheduler.tick()
        async with self._turn:
            await self.app.outbox.drain()

    async def deliver(self, stop: asyncio.Event) -> None:
        """Print what falls due while nobody types (a round closing, a digest, a retry) —
        the console's outbox worker, taking turns with typed lines."""
        wake = self.app.outbox.wake
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), timeout=1.0)
            wake.clear()
            async with self._turn:
                await self.app.outbox.drain()

    def _switch_user(self, rest: str) -> bool:
        name = rest.strip().lstrip("@").lower()
        if not re.fullmatch(r"[a-z][\w.-]*", name):
            self.out("Usage: /as NAME   (e.g. /as bob)")
            return True
        self.user = name
        self.platform.seen(self.channel, name)
        self.out(f"You are now @{name}.")
        return True

    def _switch_channel(self, rest: str) -> bool:
        match = _CHANNEL.match(rest.strip().lower())
        if match is None:
            self.out("Usage: /in CHANNEL   (e.g. /in support)")
            return True
        self.channel = match.group(1)
        self.platform.seen(self.channel, self.user)
        self.out(f"You are now in #{self.channel}.")
        return True

    async def repl(self, read: LineReader = read_line) -> None:
        """Chat until /quit, end of input or Ctrl-C (which cancels this task)."""
        self.out(WELCOME.format(user=self.user, channel=self.channel))
        while True:
            try:
                line = await read(f"@{self.user} #{self.channel}> ")
            except (EOFError, KeyboardInterrupt):
                self.out("")
                return
            except asyncio.CancelledError:
                self.out("")  # leave the shell's prompt on a line of its own
                raise
            await self.catch_up()
            if not await self.say(line):
                return
