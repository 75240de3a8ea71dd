"""Workspaces, people and the groups they form: looked up through the platform's Directory,
cached in our tables. Shared by every feature (kudos, groups, digests, pulses), so no feature
needs another to know who someone is, who leads whom, or who is in a channel-backed team."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import timedelta

from bot.lexicon import clean_user_text
from bot.messages import Mention
from bot.ops.config import Config
from bot.ops.keys import EmailTags, load_keyring
from bot.people.actor import Actor, Caller, is_admin, plain_listed
from bot.people.lookup import Directory, PersonInfo
from bot.runtime.clock import Clock
from storage.db import Database
from storage.models import Person, Team, Workspace
from storage.repositories import people, teams, workspaces

REFRESH_AFTER = timedelta(hours=24)
# More people named than this are not read ahead (a feature refuses such a request anyway).
READ_AHEAD_AT_MOST = 25



@dataclass
class _Request:
    """What one request learnt about people, by (workspace id, user id)."""

    # Our records, read ahead; None: looked for, not stored.
    read: dict[tuple[int, str], Person | None] = field(default_factory=dict)
    # Directory answers fetched alongside the caller's own look-up, not yet used.
    fetched: dict[tuple[int, str], PersonInfo | None] = field(default_factory=dict)


_request: ContextVar[_Request | None] = ContextVar("people_request", default=None)

log = logging.getLogger(__name__)


@contextmanager
def one_request() -> Iterator[None]:
    """The people a request's caller names are read with the caller, in one statement, and
    served from that read for the rest of the request (and never beyond it)."""
    token = _request.set(_Request())
    try:
        yield
    finally:
        _request.reset(token)


class People:
    def __init__(self, db: Database, clock: Clock, config: Config) -> None:
        self.db = db
        self.clock = clock
        self.config = config
        self._workspaces: dict[tuple[str, str], Workspace] = {}
        self._first: dict[str, int] = {}  # platform → its first known workspace's id
        self._email_tags: EmailTags | None = None

    def email_tag(self, email: str | None) -> str | None:
        if not email:
            return None
        if self._email_tags is None:
            self._email_tags = EmailTags(load_keyring(self.config, create=True))
        return self._email_tags.tag(email)

    async def workspace(self, platform: str, external_id: str, name: str = "") -> Workspace:
        key = (platform, external_id)
        if key not in self._workspaces:
            async with self.db.write() as session:
                self._workspaces[key] = await workspaces.ensure(
                    session, platform, external_id, self.clock.now(), name
                )
        return self._workspaces[key]

    async def caller(
        self,
        actor: Actor,
        directory: Directory,
        named: Sequence[str] = (),
        fetch_ahead: Sequence[str] = (),
    ) -> Caller:
        """`named`: people the request names (a kudos' recipients), read together with the
        caller inside `one_request`. `fetch_ahead`: those of them the feature will look up
        whoever the caller is; asked about at the same time as the caller when both need it."""
        workspace = await self.workspace(actor.platform, actor.workspace_id, actor.workspace_name)
        await self._read_ahead(workspace, [actor.user_id, *named])
        hint = PersonInfo(
            user_id=actor.user_id,
            display_name=actor.display_name or actor.user_id,
            timezone=actor.timezone,
            is_admin=actor.is_platform_admin,
        )
        person = await self._resolve_caller(workspace, directory, hint, fetch_ahead)
        if person is None:  # the platform could not describe the caller; trust the event
            person = await self._save(workspace, hint)
        return Caller(
            actor=actor,
            workspace=workspace,
            person=person,
            directory=directory,
            is_admin=await self._is_admin(person, actor, workspace),
        )

    async def _resolve_caller(
        self,
        workspace: Workspace,
        directory: Directory,
        hint: PersonInfo,
        fetch_ahead: Sequence[str],
    ) -> Person | None:
        """The caller, with the people the feature will look up anyway fetched from the
        directory at the same time: one platform round trip of waiting instead of two."""
        ahead = self._to_fetch_alongside(workspace, hint, fetch_ahead)
        if not ahead:
            return await self.resolve(workspace, directory, hint.user_id, hint=hint)
        assert workspace.id is not None
        # Failures come back as values: each such person is asked again in its turn.
        fetching = asyncio.gather(
            *(directory.person(user_id) for user_id in ahead), return_exceptions=True
        )
        try:
            person = await self.resolve(workspace, directory, hint.user_id, hint=hint)
        except BaseException:
            fetching.cancel()
            raise
        fetched = _fetched_answers()
        for user_id, info in zip(ahead, await fetching, strict=True):
            if isinstance(info, BaseException):
                log.debug("directory look-up alongside the caller failed: %r", info)
            else:
                fetched[(workspace.id, user_id)] = info
        return person

    def _to_fetch_alongside(
        self, workspace: Workspace, hint: PersonInfo, fetch_ahead: Sequence[str]
    ) -> list[str]:
        """Who of `fetch_ahead` to ask about now: only when the caller is asked about too (else
        nothing is gained), and only those our records do not already serve."""
        request = _request.get()
        if request is None or workspace.id is None:
            return []
        read = request.read
        caller_key = (workspace.id, hint.user_id)
        if caller_key not in read or self._current(read[caller_key], hint):
            return []  # not read ahead (nothing known either way), or no look-up to overlap
        others = [user_id for user_id in dict.fromkeys(fetch_ahead) if user_id != hint.user_id]
        return [
            user_id
            for user_id in others
            if (workspace.id, user_id) in read
            and not self._current(read[(workspace.id, user_id)], None)
        ]

    def _current(self, known: Person | None, hint: PersonInfo | None) -> bool:
        """Whether our record of a person serves as it is, without asking the directory."""
        if known is None or self.clock.now() - known.refreshed_at >= REFRESH_AFTER:
            return False
        return hint is None or _agrees(known, hint)

    async def _is_admin(self, person: Person, actor: Actor, workspace: Workspace) -> bool:
        first = True
        if plain_listed(self.config, person) and not actor.is_platform_admin:
            first = workspace.id == await self._first_workspace(actor.platform)
        return is_admin(self.config, person, actor, first_workspace=first)

    async def _first_workspace(self, platform: str) -> int | None:
        """The id of the first workspace of `platform` the bot knew (it stays the first)."""
        if platform not in self._first:
            async with self.db.read() as session:
                first = await workspaces.first_id(session, platform)
            if first is None:
                return None
            self._first[platform] = first
        return self._first[platform]

    async def known_caller(self, actor: Actor, directory: Directory) -> Caller | None:
        """The caller as we already know them, or None — and no write of any kind: the path of
        an anonymous answer leaves no who-was-active-when record (docs/PRIVACY.md)."""
        async with self.db.read() as session:
            workspace = self._workspaces.get((actor.platform, actor.workspace_id))
            if workspace is None:
                workspace = await workspaces.find(session, actor.platform, actor.workspace_id)
            if workspace is None or workspace.id is None:
                return None
            person = await people.find(session, workspace.id, actor.user_id)
        if person is None:
            return None
        return Caller(
            actor=actor,
            workspace=workspace,
            person=person,
            directory=directory,
            is_admin=await self._is_admin(person, actor, workspace),
        )

    async def resolve(
        self,
        workspace: Workspace,
        directory: Directory,
        user_id: str,
        *,
        hint: PersonInfo | None = None,
    ) -> Person | None:
        """Our record of `user_id`, refreshed from the directory when missing or stale."""
        assert workspace.id is not None
        read = _read_records()
        if read is not None and (workspace.id, user_id) in read:
            known = read[(workspace.id, user_id)]
        else:
            async with self.db.read() as session:
                known = await people.find(session, workspace.id, user_id)
        if known is not None and self._current(known, hint):
            return known
        fetched = _fetched_answers()
        if (workspace.id, user_id) in fetched:
            info = fetched.pop((workspace.id, user_id))
        else:
            info = await directory.person(user_id)
        if info is None:
            return known
        if hint is not None and hint.timezone:
            info = PersonInfo(
                user_id=info.user_id,
                display_name=info.display_name,
                timezone=hint.timezone,
                is_bot=info.is_bot,
                is_admin=info.is_admin or hint.is_admin,
                is_external=info.is_external,
                email=info.email,
            )
        return await self._save(workspace, info)

    async def _read_ahead(self, workspace: Workspace, user_ids: Sequence[str]) -> None:
        read = _read_records()
        wanted = list(dict.fromkeys(user_ids))
        if read is None or workspace.id is None or len(wanted) > READ_AHEAD_AT_MOST:
            return
        async with self.db.read() as session:
            found = await people.find_many(session, workspace.id, wanted)
        for user_id in wanted:
            read[(workspace.id, user_id)] = found.get(user_id)

    async def _save(self, workspace: Workspace, info: PersonInfo) -> Person:
        assert workspace.id is not None
        async with self.db.write(one_statement=True) as session:  # one upsert
            saved = await people.save(
                session,
                workspace.id,
                info.user_id,
                # Directory text is user text: made inert once, here, like a typed reason.
                display_name=clean_user_text(info.display_name),
                timezone=info.timezone,
                is_bot=info.is_bot,
                is_platform_admin=info.is_admin,
                now=self.clock.now(),
                is_external=info.is_external,
                email_tag=self.email_tag(info.email),
            )
        read = _read_records()
        if read is not None:
            read[(workspace.id, info.user_id)] = saved
        return saved

    async def leads(self, caller: Caller, member_external_id: str) -> bool:
        """Whether the caller leads a team that the person belongs to."""
        async with self.db.read() as session:
            return await teams.leads_person(
                session, caller.person_id, caller.workspace_id, member_external_id
            )

    async def channel_member_ids(
        self, workspace: Workspace, directory: Directory, channel_id: str
    ) -> list[int]:
        """Person ids of the channel's human members of this workspace (or Grid org); people we
        have not met are looked up."""
        assert workspace.id is not None
        external_ids = await directory.channel_members(channel_id)
        async with self.db.read() as session:
            known = await people.find_many(session, workspace.id, external_ids)
        found: list[Person] = []
        for external_id in external_ids:
            person = known.get(external_id) or await self.resolve(
                workspace, directory, external_id
            )
            # Guests of another organisation (Slack Connect) are never asked or counted.
            if (
                person is not None
                and not person.is_bot
                and not person.is_external
                and person.forgotten_at is None
            ):
                found.append(person)
        return [person.id for person in found if person.id]

    async def refresh_channel_team(
        self, workspace: Workspace, directory: Directory, team: Team
    ) -> None:
        assert team.id is not None and team.channel_id is not None
        ids = await self.channel_member_ids(workspace, directory, team.channel_id)
        async with self.db.write() as session:
            await teams.replace_members(session, team.id, ids)


def mention(person: Person) -> Mention:
    # Cleaned again for rows stored before names were cleaned on the way in.
    return Mention(user_id=person.external_id, name=clean_user_text(person.display_name))


def _read_records() -> dict[tuple[int, str], Person | None] | None:
    request = _request.get()
    return None if request is None else request.read


def _fetched_answers() -> dict[tuple[int, str], PersonInfo | None]:
    """This request's directory answers fetched ahead; outside a request, none (and a
    throwaway mapping, so callers need not ask)."""
    request = _request.get()
    return {} if request is None else request.fetched


def _agrees(known: Person, hint: PersonInfo) -> bool:
    """The event tells us something newer than our record (e.g. Teams sends the zone)."""
    return (not hint.timezone or hint.timezone == known.timezone) and (
        not hint.is_admin or known.is_platform_admin
    )
