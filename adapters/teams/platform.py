"""Teams as a platform the core can use: a Directory and a Sender per tenant."""

from __future__ import annotations

from botbuilder.core import BotAdapter

from adapters.teams.conversations import ConversationRefs
from adapters.teams.directory import TeamsDirectory
from adapters.teams.sender import TeamsSender

# Names learned from mention entities and rosters, so a freshly mentioned person has a name
# even before the connector is asked. Bounded: it is only a hint.
MAX_NAMES = 20_000


class TeamsPlatform:
    name = "teams"

    def __init__(self, adapter: BotAdapter, app_id: str, refs: ConversationRefs) -> None:
        self.adapter = adapter
        self.app_id = app_id
        self.refs = refs
        self.names: dict[tuple[str, str], str] = {}

    def directory(self, workspace_external_id: str) -> TeamsDirectory:
        return TeamsDirectory(self, workspace_external_id)

    def sender(self, workspace_external_id: str) -> TeamsSender:
        return TeamsSender(self, workspace_external_id)

    def learn_names(self, tenant_id: str, people: list[tuple[str, str]]) -> None:
        if len(self.names) > MAX_NAMES:
            self.names.clear()
        for user_id, name in people:
            if name:
                self.names[(tenant_id, user_id)] = name
