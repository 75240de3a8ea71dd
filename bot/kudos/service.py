"""Kudos transactions: giving, undoing and revoking, stats and the leaderboard. The rules they
apply are in rules.py; what they say is built in messages.py."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.kudos import messages, rules
from bot.kudos.commands import GiveKudos, KudosSettings, Period, SetNotify
from bot.lexicon import CHANNEL, MENTION, clean_user_text, neutralise_pings
from bot.messages import Message, Refused, Reply
from bot.ops.config import Config
from bot.people.actor import Caller, zone_of
from bot.people.directory import People
from bot.runtime import outbox
from bot.runtime.clock import Clock
from storage.db import Database
from storage.errors import Duplicate
from storage.models import Person, Recognition
from storage.repositories import audit, recognitions
from storage.repositories import outbox as outbox_rows
from storage.repositories import people as people_repo
from storage.repositories import settings as settings_rows
from storage.unit import Unit


@dataclass(frozen=True)
class GiveOptions:
    """How a kudos came to be: typed, from a form, or a reaction on a message."""

    source: str = "command"
    source_ref: str | None = None
    dedupe_key: str | None = None
    strict_reason: bool = True


class RecognitionService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        config: Config,
        people: People,
        on_enqueue: Callable[[], None] = lambda: None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.config = config
        self.settings = config.kudos
        self.people = people
        self.on_enqueue = on_enqueue

    # -- giving -----------------------------------------------------------------------------

    async def give(
        self, caller: Caller, command: GiveKudos, options: GiveOptions = GiveOptions()
    ) -> Reply:
        try:
            user_ids, cleaned = self._cheap_checks(command, strict=options.strict_reason)
            if len(user_ids) > 1:
                # Several people may not fit in what is left today: known before looking any
                # of them up. One person is looked up at most (the usual kudos), and today's
                # allowance is read once, where the kudos is stored.
                (await self._allowance(caller)).take(len(user_ids))
            recipients = await self._check_recipients(caller, user_ids)
            reason = await self._check_reason(caller, cleaned, strict=options.strict_reason)
            tags = rules.check_tags(command.tags, self.settings, strict=options.strict_reason)
            recognition, left = await self._store(caller, recipients, reason, tags, options)
        except Refused as refusal:
            return refusal.reply()
        if recognition is None:  # the same platform event, delivered again
            return Reply()
        self.on_enqueue()
        return messages.sent(recipients, left, self.settings.allowance)

    def _cheap_checks(self, command: GiveKudos, *, strict: bool) -> tuple[list[str], str]:
        """The checks that need nobody looked up, first: nothing is looked up for a kudos
        refused anyway. The distinct people named, and the reason made inert."""
        user_ids = rules.distinct_recipients(command.recipients)
        rules.check_recipient_count(user_ids)
        cleaned = clean_user_text(command.reason)
        if strict:
            rules.check_reason_length(MENTION.sub("@", cleaned), self.settings)
            rules.check_named_in_reason(_named(cleaned), strict=True)
        return user_ids, cleaned

    def looked_up_first(self, command: GiveKudos) -> tuple[str, ...]:
        """Who a typed kudos looks up whatever its giver's record says: the one person it
        names, once the cheap checks pass (several people wait for the allowance)."""
        try:
            user_ids, _ = self._cheap_checks(command, strict=True)
        except Refused:
            return ()
        return tuple(user_ids) if len(user_ids) == 1 else ()

    async def _allowance(self, caller: Caller) -> rules.Allowance:
        """Today's allowance as it stands (checked again, under a lock, when storing)."""
        today = rules.giver_day(self.clock.now(), zone_of(caller.person, self.config))
        async with self.db.read() as session:
            used = await recognitions.awards_on_day(session, caller.person_id, today)
        return rules.Allowance(daily=self.settings.allowance, used=used)

    async def _check_reason(self, caller: Caller, reason: str, *, strict: bool) -> str:
        reason = await self._readable_references(caller, reason, strict=strict)
        return rules.check_reason(reason, self.settings, strict=strict)

    async def _readable_references(self, caller: Caller, reason: str, *, strict: bool) -> str:
        """Mentions inside a reason become plain names: the reason is quoted, not a ping."""
        names: dict[str, str] = {}
        named = rules.check_named_in_reason(_named(reason), strict=strict)
        for user_id, person in zip(named, await self._resolve_all(caller, named), strict=True):
            # Directory text is user text too: a person named "here" must not become @here.
            name = clean_user_text(person.display_name) if person and person.display_name else ""
            names[user_id] = name or user_id

        def person_name(match: re.Match[str]) -> str:
            return neutralise_pings("@" + names.get(match.group(1), match.group(1)))

        def channel_name(match: re.Match[str]) -> str:
            label = match.group(0).partition("|")[2].rstrip(">")
            return "#" + (label or match.group(1))

        return CHANNEL.sub(channel_name, MENTION.sub(person_name, reason))

    async def _check_recipients(self, caller: Caller, user_ids: Sequence[str]) -> list[Person]:
        found: list[Person] = []
        # Looked up together (each may be a directory round trip), checked in the order named,
        # so the first person named who cannot be thanked is the one refused.
        others = [user_id for user_id in user_ids if user_id != caller.person.external_id]
        people = dict(zip(others, await self._resolve_all(caller, others), strict=True))
        for user_id in user_ids:
            rules.check_not_self(user_id, caller.person.external_id)
            found.append(rules.check_recipient(user_id, people[user_id]))
        return found

    async def _resolve_all(self, caller: Caller, user_ids: Sequence[str]) -> list[Person | None]:
        if len(user_ids) == 1:  # the usual case: no tasks to make
            return [await self.people.resolve(caller.workspace, caller.directory, user_ids[0])]
        return list(
            await asyncio.gather(
                *(
                    self.people.resolve(caller.workspace, caller.directory, user_id)
                    for user_id in user_ids
                )
            )
        )

    async def _store(
        self,
        caller: Caller,
        recipients: list[Person],
        reason: str,
        tags: tuple[str, ...],
        options: GiveOptions,
    ) -> tuple[Recognition | None, int]:
        now = self.clock.now()
        today = rules.giver_day(now, zone_of(caller.person, self.config))
        try:
            async with self.db.write() as session:
                await people_repo.lock(session, caller.person_id)
                # Today's awards and the workspace's and the recipients' own settings.
                muted_keys = [rules.notify_off_key(person.id or 0) for person in recipients]
                used, stored = await recognitions.awards_on_day_and_settings(
                    session,
                    caller.person_id,
                    today,
                    [*self._quiet_keys(caller.workspace_id), *muted_keys],
                )
                allowance = rules.Allowance(daily=self.settings.allowance, used=used)
                left = allowance.take(len(recipients))
                recognition = await recognitions.add(
                    session,
                    recognitions.NewRecognition(
                        workspace_id=caller.workspace_id,
                        giver_id=caller.person_id,
                        recipient_ids=tuple(person.id for person in recipients if person.id),
                        reason=reason,
                        tags=tags,
                        channel_id=caller.actor.channel_id,
                        source=options.source,
                        source_ref=options.source_ref,
                        dedupe_key=options.dedupe_key,
                        created_at=now,
                        giver_day=today,
                    ),
                )
                quiet = self._quiet_from(stored, caller.workspace_id)
                muted = {key for key in muted_keys if key in stored}
                announcements = self._announcements(
                    caller, recognition, recipients, tags, quiet, muted
                )
                await outbox.enqueue_many(
                    session,
                    workspace_id=caller.workspace_id,
                    platform=caller.actor.platform,
                    items=[
                        (key, message.model_dump(mode="json"), now)
                        for key, message in announcements
                    ],
                    now=now,
                )
        except Duplicate:
            if options.dedupe_key is None:
                raise
            return None, 0
        return recognition, left

    async def _quiet(self, session: Unit, workspace_id: int) -> rules.Quiet:
        stored = await settings_rows.find_many(session, self._quiet_keys(workspace_id))
        return self._quiet_from(stored, workspace_id)

    @staticmethod
    def _quiet_keys(workspace_id: int) -> list[str]:
        return [rules.celebrate_key(workspace_id), rules.dms_key(workspace_id)]

    def _quiet_from(self, stored: dict[str, str], workspace_id: int) -> rules.Quiet:
        configured = self.settings
        return rules.quiet(
            configured.celebrate_mode, configured.channel, configured.dms, stored, workspace_id
        )

    def _announcements(
        self,
        caller: Caller,
        recognition: Recognition,
        recipients: list[Person],
        tags: tuple[str, ...],
        quiet: rules.Quiet,
        muted: set[str],
    ) -> list[tuple[str, Message]]:
        """The celebration post (when the workspace celebrates, and there is a channel for
        it) and a DM per recipient who gets them, each under its outbox key."""
        assert recognition.id is not None
        giver, reason = caller.person, recognition.reason
        awards = messages.award_line(self.settings, tags)
        channel = rules.celebration_target(quiet, caller.actor.channel_id)
        announcements: list[tuple[str, Message]] = []
        if channel and quiet.celebrate == "thread":
            day = recognition.created_at.astimezone(ZoneInfo(self.config.default_timezone)).date()
            daily = rules.daily_post_key(caller.workspace_id, channel, day)
            announcements.append((daily, messages.daily_post(channel)))
            post = messages.celebration(giver, recipients, reason, awards, channel)
            announcements.append(
                (rules.post_key(recognition.id), post.model_copy(update={"thread_of": daily}))
            )
        elif channel:
            post = messages.celebration(giver, recipients, reason, awards, channel)
            announcements.append((rules.post_key(recognition.id), post))
        posted_in = rules.channel_named_in_dm(caller.actor.channel_id, channel)
        for person in recipients:
            if not quiet.dms or rules.notify_off_key(person.id or 0) in muted:
                continue
            direct = messages.received(giver, person, reason, awards, posted_in)
            announcements.append((rules.dm_key(recognition.id, person.external_id), direct))
        return announcements

    # -- how loud kudos are ------------------------------------------------------------------

    async def change_settings(self, caller: Caller, command: KudosSettings) -> Reply:
        if command.setting is not None:
            if not caller.is_admin:
                return Reply.refused(
                    "Only admins can change where kudos are celebrated and whether recipients "
                    "get DMs. Your own DMs: /kudos notify off|on."
                )
            if command.setting == "celebrate":
                key = rules.celebrate_key(caller.workspace_id)
                value = (
                    f"{command.value}:{command.channel_id}" if command.channel_id else command.value
                )
            else:
                key, value = rules.dms_key(caller.workspace_id), command.value
            now = self.clock.now()
            async with self.db.write() as session:
                await settings_rows.put(session, key, value)
                await audit.record(
                    session,
                    workspace_id=caller.workspace_id,
                    actor=caller.actor.user_id,
                    action=f"kudos.settings.{command.setting}",
                    detail=value,
                    now=now,
                )
        async with self.db.read() as session:
            quiet = await self._quiet(session, caller.workspace_id)
        return messages.settings_reply(quiet, changed=command.setting is not None)

    async def notify(self, caller: Caller, command: SetNotify) -> Reply:
        key = rules.notify_off_key(caller.person_id)
        async with self.db.write() as session:
            if command.on:
                await settings_rows.remove(session, key)
            else:
                await settings_rows.put(session, key, "off")
        if command.on:
            return Reply.private("🔔 You will get a DM when someone gives you kudos.")
        return Reply.private(
            "🔕 No more kudos DMs for you (turn them back on with /kudos notify on). Pulse "
            "questions and their reminders still come: they are how your answer is asked for."
        )

    # -- undo and revoke --------------------------------------------------------------------

    async def undo(self, caller: Caller) -> Reply:
        minutes = self.settings.undo_minutes
        async with self.db.write() as session:
            await people_repo.lock(session, caller.person_id)
            latest = await recognitions.latest_by_giver(session, caller.person_id)
            if latest is None or not rules.may_undo(latest.created_at, self.clock.now(), minutes):
                return messages.nothing_to_undo(minutes)
            who = await self._revoke(session, caller, latest)
        self.on_enqueue()
        return messages.undone(who, latest.reason)

    async def revoke_source(self, caller: Caller, source: str, source_ref: str) -> Reply:
        """Revoke the kudos a reaction gave when the reaction is removed (no time limit)."""
        async with self.db.write() as session:
            found = await recognitions.find_by_source(
                session, caller.workspace_id, caller.person_id, source, source_ref
            )
            if found is None:
                return Reply()
            who = await self._revoke(session, caller, found)
        self.on_enqueue()
        return messages.revoked(who)

    async def _revoke(self, session: Unit, caller: Caller, recognition: Recognition) -> str:
        assert recognition.id is not None
        now = self.clock.now()
        await recognitions.revoke(session, recognition, now)
        recipients = await recognitions.recipients(session, recognition.id)
        post_key = rules.post_key(recognition.id)
        keys = [post_key] + [rules.dm_key(recognition.id, p.external_id) for p in recipients]
        await outbox_rows.cancel_pending(session, keys)
        celebration = await outbox_rows.find_by_key(session, post_key)
        if celebration is not None and celebration.status != outbox_rows.CANCELLED:
            original = Message.model_validate(celebration.message)
            await outbox.enqueue(
                session,
                workspace_id=caller.workspace_id,
                platform=caller.actor.platform,
                key=rules.withdrawn_key(recognition.id),
                message=messages.withdrawn(original.audience, caller.person, post_key),
                now=now,
            )
        return messages.names_of(recipients)

    # -- stats and leaderboard --------------------------------------------------------------

    async def stats(self, caller: Caller, user_id: str | None, may_view_others: bool) -> Reply:
        subject = caller.person
        if user_id and user_id != caller.person.external_id:
            if not may_view_others:
                return Reply.refused(
                    "You can see your own stats with /kudos stats. Other people's stats are "
                    "for their team lead and admins."
                )
            found = await self.people.resolve(caller.workspace, caller.directory, user_id)
            if found is None:
                return Reply.refused(f"I couldn't find '{user_id}' in this workspace.")
            subject = found
        assert subject.id is not None
        zone = zone_of(caller.person, self.config)
        now = self.clock.now()
        week, month = rules.period_start(now, zone, "week"), rules.period_start(now, zone, "month")
        async with self.db.read() as session:
            received_week = await recognitions.received_count(session, subject.id, week)
            received_month = await recognitions.received_count(session, subject.id, month)
            received_all = await recognitions.received_count(session, subject.id, None)
            given_month = await recognitions.given_count(session, subject.id, month)
            given_all = await recognitions.given_count(session, subject.id, None)
            top_tags = await recognitions.top_tags_received(session, subject.id)
            used_today = await recognitions.awards_on_day(
                session, subject.id, rules.giver_day(now, zone_of(subject, self.config))
            )
        own = subject.id == caller.person.id
        stats = messages.Stats(
            received_week=received_week,
            received_month=received_month,
            received_all=received_all,
            given_month=given_month,
            given_all=given_all,
            top_tags=top_tags,
            # Only the person themself is told what they have left to give.
            left_today=rules.Allowance(self.settings.allowance, used_today).left if own else None,
        )
        return messages.stats_reply(self.settings, subject, own, stats)

    async def top(self, caller: Caller, period: Period) -> Reply:
        if not self.settings.leaderboard:
            return Reply.refused("The leaderboard is turned off in this workspace.")
        zone = zone_of(caller.person, self.config)
        since = rules.period_start(self.clock.now(), zone, period)
        async with self.db.read() as session:
            ranking = await recognitions.leaderboard(session, caller.workspace_id, since)
        return messages.top_reply(period, ranking)


def _named(reason: str) -> list[str]:
    """The people a reason mentions, each once, in order."""
    return list(dict.fromkeys(match.group(1) for match in MENTION.finditer(reason)))
