"""Teams as a platform the core can use: a Directory and a Sender per tenant."""

from __future__ import annotations

from adapters.teams.connection import TeamsConnection
from adapters.teams.directory import TeamsDirectory
from adapters.teams.sender import TeamsSender


class TeamsPlatform(TeamsConnection):
    name = "teams"

    def directory(self, workspace_external_id: str) -> TeamsDirectory:
        return TeamsDirectory(self, workspace_external_id)

    def sender(self, workspace_external_id: str) -> TeamsSender:
        return TeamsSender(self, workspace_external_id)
