"""The person's home as their App Home tab: built by the core, published with views.publish.

Published after the ack, in background work, when the tab is opened and after the person's own
actions (a kudos given, a pulse answered). The re-publish uses the core's read-only refresh, so
a request that carried a pulse answer writes nothing more (docs/PRIVACY.md)."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError

from adapters.slack.blockkit import home_view
from adapters.slack.clients import SlackClients
from bot.core import Core
from bot.home.commands import RefreshHome, ShowHome
from bot.people.actor import Actor

log = logging.getLogger(__name__)


class HomePublisher:
    def __init__(self, core: Core, clients: SlackClients) -> None:
        self.core = core
        self.clients = clients

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
            await client.views_publish(user_id=actor.user_id, view=home_view(home))
        except (SlackApiError, OSError, TimeoutError) as error:
            code = error.response.get("error") if isinstance(error, SlackApiError) else error
            log.warning("could not publish a home (%s)", code)
