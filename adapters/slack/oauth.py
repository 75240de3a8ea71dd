"""The public install flow of a self-hosted bot: only the listed workspaces may install.

`slack.install_allowlist` names Slack workspace (team, T…) and Enterprise Grid org (E…) ids.
Slack tells us who is installing only at the OAuth callback, after the code exchange: an
install from elsewhere is refused there, before anything is stored, with a page saying why,
and the token Slack just issued is revoked so the app does not linger in that workspace.
An empty list keeps the open behaviour (anyone who finds /slack/install may install).
"""

from __future__ import annotations

import html
import logging
from collections.abc import Iterable

from slack_bolt.error import BoltError
from slack_bolt.oauth.async_callback_options import AsyncFailureArgs
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)


class InstallNotAllowed(BoltError):
    def __init__(self, installing: str) -> None:
        super().__init__(f"install from {installing} is not on slack.install_allowlist")
        self.installing = installing


def allows(allowlist: Iterable[str], installation: Installation) -> bool:
    """Listed: the workspace itself, or the Grid org it (or an org-wide install) belongs to."""
    listed = {entry.strip().upper() for entry in allowlist} - {""}
    if not listed:
        return True
    ids = {(installation.team_id or "").upper(), (installation.enterprise_id or "").upper()}
    return bool(ids & listed)


class AllowListOAuthFlow(AsyncOAuthFlow):
    def __init__(
        self,
        *,
        client: AsyncWebClient,
        settings: AsyncOAuthSettings,
        allowlist: Iterable[str],
    ) -> None:
        super().__init__(client=client, logger=log, settings=settings)
        self.allowlist = tuple(allowlist)
        default_failure = self.failure_handler

        async def failure(args: AsyncFailureArgs) -> BoltResponse:
            if isinstance(args.error, InstallNotAllowed):
                return refusal_page(args.error.installing)
            return await default_failure(args)

        self.failure_handler = failure

    async def store_installation(
        self, request: AsyncBoltRequest, installation: Installation
    ) -> None:
        if not allows(self.allowlist, installation):
            installing = (
                installation.enterprise_id
                if installation.is_enterprise_install
                else (installation.team_id or installation.enterprise_id or "unknown")
            )
            log.warning("slack: refused an install from %s (not on the allow-list)", installing)
            await self._revoke(installation)
            raise InstallNotAllowed(str(installing))
        await super().store_installation(request, installation)

    async def _revoke(self, installation: Installation) -> None:
        """Give the just-issued token back; a failure here changes nothing we store."""
        for token in (installation.bot_token, installation.user_token):
            if not token:
                continue
            try:
                await self.client.auth_revoke(token=token)
            except Exception as error:  # the refusal stands whatever Slack answers
                log.warning("slack: could not revoke a refused install's token: %s", error)


def refusal_page(installing: str) -> BoltResponse:
    body = (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Install refused</title></head>"
        "<body><h1>This Kudos &amp; Pulse server does not accept installs from your "
        "workspace</h1><p>Its operator allows installs only from the Slack workspaces and "
        f"organisations they listed, and <code>{html.escape(installing)}</code> is not one of "
        "them. Nothing was installed or stored. If you expected to be able to install it, ask "
        "the person who runs this server to add your workspace (or org) id to "
        "<code>slack.install_allowlist</code>.</p></body></html>"
    )
    return BoltResponse(status=403, body=body, headers={"Content-Type": "text/html; charset=utf-8"})
