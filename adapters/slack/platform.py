"""Slack as the core sees it: a Directory and a Sender per workspace record (the Grid org id,
else the team id), and per team inside an org for answers to a request."""

from __future__ import annotations

from adapters.slack.clients import SlackClients
from adapters.slack.directory import SlackDirectory
from adapters.slack.sender import SlackSender


class SlackPlatform:
    name = "slack"

    def __init__(self, clients: SlackClients) -> None:
        self.clients = clients
        self._directories: dict[str, SlackDirectory] = {}
        self._senders: dict[tuple[str, str], SlackSender] = {}

    def directory(self, workspace_external_id: str) -> SlackDirectory:
        if workspace_external_id not in self._directories:
            self._directories[workspace_external_id] = SlackDirectory(
                self.clients, workspace_external_id
            )
        return self._directories[workspace_external_id]

    def sender(self, workspace_external_id: str, team_id: str = "") -> SlackSender:
        key = (workspace_external_id, team_id)
        if key not in self._senders:
            self._senders[key] = SlackSender(self.clients, workspace_external_id, team_id)
        return self._senders[key]
