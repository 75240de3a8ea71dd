"""The person's home as their App Home tab: built by the core, published with views.publish.

Published after the ack, in background work, each time the tab is opened (Slack sends
app_home_opened on every visit) and after a form that changes it was submitted (the person may
be looking at it behind the modal). The re-publish uses the
core's read-only refresh, so a request that carried a pulse answer writes nothing more
(docs/PRIVACY.md).

A lead's home carries their teams' EASY × VALUE maps. The words go out first; drawing happens
afterwards, in the picture process, and the home is published again with the pictures. Each
picture is uploaded once (files.getUploadURLExternal → completeUploadExternal, shared in no
channel) and shown by its file id in an `image` block, so Slack serves it to the viewer
without the bot needing a public address (docs/ARCHITECTURE.md, Charts)."""

from __future__ import annotations

import hashlib
import logging
from collections import OrderedDict

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.blockkit import IMAGE_TEXT, home_view
from adapters.slack.clients import SlackClients
from adapters.slack.errors import delivery_error
from adapters.slack.text import cut_plain
from bot.core import Core
from bot.home.commands import RefreshHome, ShowHome
from bot.messages import Chart, Message
from bot.people.actor import Actor
from bot.runtime.pictures import PictureCache

log = logging.getLogger(__name__)

# Uploaded pictures remembered (workspace, PNG digest → file id): reopening uploads nothing.
KNOWN_FILES = 2048


class HomePublisher:
    def __init__(self, core: Core, clients: SlackClients, pictures: PictureCache | None) -> None:
        self.core = core
        self.clients = clients
        self.pictures = pictures
        self._files: OrderedDict[tuple[str, str], str] = OrderedDict()

    async def opened(self, actor: Actor) -> None:
        await self._publish(actor, ShowHome())

    async def refresh(self, actor: Actor) -> None:
        await self._publish(actor, RefreshHome())

    async def _publish(self, actor: Actor, command: object) -> None:
        reply = await self.core.handle(actor, command)
        home = next((message for message in reply.messages if message.home), None)
        if home is None:
            return  # e.g. someone the bot has never met, on a read-only refresh
        try:
            client = await self.clients.for_workspace(actor.workspace_id)
            if self.pictures is not None:
                home = self.pictures.cached(home)
            await self._views_publish(client, actor, home)
            if self.pictures is not None and self.pictures.missing(home):
                drawn = await self.pictures.draw(home)
                if _drawn(drawn) > _drawn(home):
                    await self._views_publish(client, actor, drawn)
        except (SlackApiError, OSError, TimeoutError) as error:
            code = error.response.get("error") if isinstance(error, SlackApiError) else error
            log.warning("could not publish a home (%s)", code)

    async def _views_publish(self, client: AsyncWebClient, actor: Actor, home: Message) -> None:
        files: dict[int, str] = {}
        for index, block in enumerate(home.blocks):
            if isinstance(block, Chart) and block.png is not None:
                file_id = await self._file(client, actor.workspace_id, block)
                if file_id:
                    files[index] = file_id
        await client.views_publish(user_id=actor.user_id, view=home_view(home, files))

    async def _file(self, client: AsyncWebClient, workspace: str, chart: Chart) -> str | None:
        """The Slack file id of this picture, uploaded (to no channel) the first time."""
        assert chart.png is not None
        key = (workspace, hashlib.sha256(chart.png).hexdigest())
        known = self._files.get(key)
        if known is not None:
            self._files.move_to_end(key)
            return known
        try:
            uploaded = await client.files_upload_v2(
                file=chart.png,
                filename=chart.filename,
                title=cut_plain(chart.title, IMAGE_TEXT),
                alt_txt=cut_plain(chart.alt, IMAGE_TEXT),
            )
        except Exception as error:
            log.warning("slack: home chart not uploaded: %s", delivery_error(error))
            return None
        file_id = str((uploaded.get("file") or {}).get("id") or "")
        if not file_id:
            return None
        self._files[key] = file_id
        while len(self._files) > KNOWN_FILES:
            self._files.popitem(last=False)
        return file_id


def _drawn(message: Message) -> int:
    return sum(1 for chart in message.charts if chart.png is not None)
