"""What every Teams part shares for one bot: the Bot Framework adapter, the app id, the stored
conversation references, and the names learned from mentions and rosters."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botbuilder.core import BotAdapter

from adapters.teams.conversations import ConversationRefs

if TYPE_CHECKING:
    from adapters.teams.charts import ChartLinks

# Names learned from mention entities and rosters, so a freshly mentioned person has a name
# even before the connector is asked. Bounded: it is only a hint.
MAX_NAMES = 20_000


class TeamsConnection:
    def __init__(self, adapter: BotAdapter, app_id: str, refs: ConversationRefs) -> None:
        self.adapter = adapter
        self.app_id = app_id
        self.refs = refs
        self.names: dict[tuple[str, str], str] = {}
        # Where drawn charts are published for cards to load (set by `install`).
        self.charts: ChartLinks | None = None

    def learn_names(self, tenant_id: str, people: list[tuple[str, str]]) -> None:
        if len(self.names) > MAX_NAMES:
            self.names.clear()
        for user_id, name in people:
            if name:
                self.names[(tenant_id, user_id)] = name
