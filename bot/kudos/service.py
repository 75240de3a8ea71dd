"""Kudos: the rules of giving, undoing and revoking, and the stats and leaderboard."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

from bot.kudos.commands import GiveKudos, Period
from bot.kudos.rules import period_start
from bot.lexicon import CHANNEL, MENTION, clean_user_text, shorten
from bot.messages import (
    ChannelLink,
    Choice,
    ChoiceInput,
    Context,
    Fields,
    Form,
    Header,
    Mention,
    Message,
    PeopleInput,
    Quote,
    Refused,
    Reply,
    ReplyTo,
    Section,
    Span,
    Text,
    TextInput,
    ToChannel,
    ToPerson,
    people_list,
    plain_text,
)
from bot.ops.config import Config
from bot.people.actor import Caller, zone_of
from bot.people.directory import People
from bot.runtime import outbox
from bot.runtime.clock import Clock
from storage.db import Database
from storage.errors import Duplicate
from storage.models import Person, Recognition
from storage.repositories import outbox as outbox_rows
from storage.repositories import people as people_repo
from storage.repositories import recognitions
from storage.unit import Unit

KUDOS_FORM = "kudos"


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
            recipients = await self._check_recipients(caller, command.recipients)
            reason = await self._check_reason(caller, command.reason, strict=options.strict_reason)
            tags = self._check_tags(command.tags, strict=options.strict_reason)
            recognition, left = await self._store(caller, recipients, reason, tags, options)
        except Refused as refusal:
            return refusal.reply()
        if recognition is None:  # the same platform event, delivered again
            return Reply()
        self.on_enqueue()
        names = people_list([_mention(person) for person in recipients])
        confirmation = Message(
            audience=ReplyTo(),
            text=f"Kudos sent to {plain_text(names)}. You have {left} of "
            f"{self.settings.allowance} left today.",
            blocks=[
                Section(
                    spans=[
                        Text(text="✅ Kudos sent to "),
                        *names,
                        Text(text=f". You have {left} of {self.settings.allowance} left today."),
                    ]
                )
            ],
        )
        return Reply(messages=[confirmation])

    def _check_tags(self, tags: Sequence[str], *, strict: bool) -> tuple[str, ...]:
        known = [tag for tag in tags if self.settings.award(tag)]
        unknown = [tag for tag in tags if not self.settings.award(tag)]
        if unknown and strict:
            valid = ", ".join(f"#{award.tag} ({award.label})" for award in self.settings.awards)
            listed = ", ".join(f"#{tag}" for tag in unknown)
            noun = "tag" if len(unknown) == 1 else "tags"
            raise Refused(f"Unknown {noun} {listed}. Valid tags: {valid}.", "tags")
        return tuple(known)

    async def _check_reason(self, caller: Caller, reason: str, *, strict: bool) -> str:
        reason = await self._readable_references(caller, clean_user_text(reason))
        limit = self.settings.max_reason_length
        if not strict:
            return shorten(reason or "(no text)", limit)
        if not reason:
            raise Refused(
                "Add a reason — what did they do? For example: "
                "/kudos @sam for untangling the refund flow #easy",
                "reason",
            )
        if len(reason) > limit:
            raise Refused(
                f"Your reason is {len(reason):,} characters; the limit is {limit:,}. "
                "Please shorten it.",
                "reason",
            )
        words = [word for word in reason.split() if re.search(r"\w", word)]
        if words and words[0].lower() == "for":
            words = words[1:]
        if len(words) < self.settings.min_reason_words:
            raise Refused(
                f"Say a little more about what they did (at least "
                f"{self.settings.min_reason_words} words), so the kudos means something.",
                "reason",
            )
        return reason

    async def _readable_references(self, caller: Caller, reason: str) -> str:
        """Mentions inside a reason become plain names: the reason is quoted, not a ping."""
        ids = {match.group(1) for match in MENTION.finditer(reason)}
        names: dict[str, str] = {}
        for user_id in ids:
            person = await self.people.resolve(caller.workspace, caller.directory, user_id)
            names[user_id] = person.display_name if person and person.display_name else user_id

        def person_name(match: re.Match[str]) -> str:
            return "@" + names.get(match.group(1), match.group(1))

        def channel_name(match: re.Match[str]) -> str:
            label = match.group(0).partition("|")[2].rstrip(">")
            return "#" + (label or match.group(1))

        return CHANNEL.sub(channel_name, MENTION.sub(person_name, reason))

    async def _check_recipients(self, caller: Caller, user_ids: Sequence[str]) -> list[Person]:
        if not user_ids:
            raise Refused("Choose at least one person to thank.", "recipients")
        found: list[Person] = []
        for user_id in dict.fromkeys(user_ids):
            if user_id == caller.person.external_id:
                raise Refused(
                    "You can't give kudos to yourself — but thanks for the enthusiasm! "
                    "Pick someone who helped you.",
                    "recipients",
                )
            person = await self.people.resolve(caller.workspace, caller.directory, user_id)
            if person is None:
                raise Refused(
                    f"I couldn't find the person '{user_id}' in this workspace. "
                    "Mention them with @ so I can tell who you mean.",
                    "recipients",
                )
            if person.is_bot:
                raise Refused(
                    f"{person.display_name or user_id} is a bot — kudos are for people.",
                    "recipients",
                )
            if person.forgotten_at is not None:
                raise Refused("That person is no longer part of this workspace.", "recipients")
            found.append(person)
        return found

    async def _store(
        self,
        caller: Caller,
        recipients: list[Person],
        reason: str,
        tags: tuple[str, ...],
        options: GiveOptions,
    ) -> tuple[Recognition | None, int]:
        now = self.clock.now()
        today = now.astimezone(zone_of(caller.person, self.config)).date()
        allowance = self.settings.allowance
        try:
            async with self.db.write() as session:
                await people_repo.lock(session, caller.person_id)
                used = await recognitions.awards_on_day(session, caller.person_id, today)
                if used + len(recipients) > allowance:
                    left = allowance - used
                    if left <= 0:
                        text = (
                            f"You've given all {allowance} of today's kudos — thank you for "
                            "being generous! Your allowance refills tomorrow."
                        )
                    else:
                        text = (
                            f"You have {left} kudos left today, but this would give "
                            f"{len(recipients)}. Thank fewer people, or try again tomorrow."
                        )
                    raise Refused(text, "recipients")
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
                for key, message in self._announcements(caller, recognition, recipients, tags):
                    await outbox.enqueue(
                        session,
                        workspace_id=caller.workspace_id,
                        platform=caller.actor.platform,
                        key=key,
                        message=message,
                        now=now,
                    )
        except Duplicate:
            if options.dedupe_key is None:
                raise
            return None, 0
        return recognition, allowance - used - len(recipients)

    def _announcements(
        self,
        caller: Caller,
        recognition: Recognition,
        recipients: list[Person],
        tags: tuple[str, ...],
    ) -> list[tuple[str, Message]]:
        giver = _mention(caller.person)
        names = people_list([_mention(person) for person in recipients])
        award_line = self._award_line(tags)
        extras = [Context(spans=[Text(text=award_line)])] if award_line else []
        channel = self.settings.channel or caller.actor.channel_id
        announcements: list[tuple[str, Message]] = []
        if channel:
            celebration = Message(
                audience=ToChannel(channel_id=channel),
                text=f"🎉 {plain_text([giver])} gave kudos to {plain_text(names)}: "
                f"{shorten(recognition.reason, 200)}",
                blocks=[
                    Section(spans=[Text(text="🎉 "), giver, Text(text=" gave kudos to "), *names]),
                    Quote(text=recognition.reason),
                    *extras,
                ],
            )
            announcements.append((f"kudos:{recognition.id}:post", celebration))
        where: list[Span] = []
        if caller.actor.channel_id and caller.actor.channel_id == channel:
            where = [Text(text=" in "), ChannelLink(channel_id=channel)]
        for person in recipients:
            direct = Message(
                audience=ToPerson(user_id=person.external_id),
                text=f"🎉 You received kudos from {plain_text([giver])}: "
                f"{shorten(recognition.reason, 200)}",
                blocks=[
                    Section(spans=[Text(text="🎉 You received kudos from "), giver, *where]),
                    Quote(text=recognition.reason),
                    *extras,
                ],
            )
            announcements.append((f"kudos:{recognition.id}:dm:{person.external_id}", direct))
        return announcements

    def _award_line(self, tags: Sequence[str]) -> str:
        awards = [self.settings.award(tag) for tag in tags]
        return "  ·  ".join(
            f"{award.emoji} {award.label}".strip() for award in awards if award is not None
        )

    # -- undo and revoke --------------------------------------------------------------------

    async def undo(self, caller: Caller) -> Reply:
        window = timedelta(minutes=self.settings.undo_minutes)
        async with self.db.write() as session:
            await people_repo.lock(session, caller.person_id)
            latest = await recognitions.latest_by_giver(session, caller.person_id)
            if latest is None or self.clock.now() - latest.created_at > window:
                return Reply.refused(
                    f"Nothing to undo: /kudos undo withdraws your last kudos within "
                    f"{self.settings.undo_minutes} minutes of giving it."
                )
            who = await self._revoke(session, caller, latest)
        self.on_enqueue()
        return Reply.private(f'↩️ Withdrawn: your kudos to {who} — "{shorten(latest.reason, 80)}".')

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
        return Reply.private(f"↩️ Withdrawn: your kudos to {who}.")

    async def _revoke(self, session: Unit, caller: Caller, recognition: Recognition) -> str:
        assert recognition.id is not None
        now = self.clock.now()
        await recognitions.revoke(session, recognition, now)
        recipients = await recognitions.recipients(session, recognition.id)
        post_key = f"kudos:{recognition.id}:post"
        keys = [post_key] + [f"kudos:{recognition.id}:dm:{p.external_id}" for p in recipients]
        await outbox_rows.cancel_pending(session, keys)
        celebration = await outbox_rows.find_by_key(session, post_key)
        if celebration is not None and celebration.status != outbox_rows.CANCELLED:
            original = Message.model_validate(celebration.message)
            withdrawn = Message(
                audience=original.audience,
                text="This kudos was withdrawn by its giver.",
                blocks=[
                    Context(
                        spans=[Text(text="↩️ This kudos was withdrawn by "), _mention(caller.person)]
                    )
                ],
                replaces=post_key,
            )
            await outbox.enqueue(
                session,
                workspace_id=caller.workspace_id,
                platform=caller.actor.platform,
                key=f"kudos:{recognition.id}:withdrawn",
                message=withdrawn,
                now=now,
            )
        return plain_text(people_list([_mention(person) for person in recipients]))

    # -- the form ---------------------------------------------------------------------------

    async def form_reply(self) -> Reply:
        awards = [
            Choice(value=award.tag, label=f"{award.emoji} {award.label}".strip())
            for award in self.settings.awards
        ]
        form = Form(
            form_id=KUDOS_FORM,
            title="Give kudos",
            submit_label="Send kudos",
            modal=True,
            inputs=[
                PeopleInput(name="recipients", label="Who do you want to thank?"),
                ChoiceInput(
                    name="tags", label="Values", choices=awards, multiple=True, optional=True
                ),
                TextInput(
                    name="reason",
                    label="What did they do?",
                    multiline=True,
                    max_length=self.settings.max_reason_length,
                    placeholder="e.g. untangled the refund flow so refunds take a day",
                ),
            ],
            text_hint="/kudos @person what they did #tag",
        )
        return Reply(messages=[Message(audience=ReplyTo(), text="Give kudos", blocks=[form])])

    @staticmethod
    def command_from_form(values: Mapping[str, object]) -> GiveKudos:
        def as_list(value: object) -> tuple[str, ...]:
            if value is None or value == "":
                return ()
            if isinstance(value, str):
                return tuple(part.strip() for part in value.split(",") if part.strip())
            if isinstance(value, list | tuple):
                return tuple(str(part) for part in value if str(part).strip())
            return (str(value),)

        reason = values.get("reason")
        return GiveKudos(
            recipients=as_list(values.get("recipients")),
            reason=reason if isinstance(reason, str) else "",
            tags=tuple(tag.lstrip("#").lower() for tag in as_list(values.get("tags"))),
        )

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
        week, month = period_start(now, zone, "week"), period_start(now, zone, "month")
        async with self.db.read() as session:
            received_week = await recognitions.received_count(session, subject.id, week)
            received_month = await recognitions.received_count(session, subject.id, month)
            received_all = await recognitions.received_count(session, subject.id, None)
            given_month = await recognitions.given_count(session, subject.id, month)
            given_all = await recognitions.given_count(session, subject.id, None)
            top_tags = await recognitions.top_tags_received(session, subject.id)
            used_today = await recognitions.awards_on_day(
                session, subject.id, now.astimezone(zone_of(subject, self.config)).date()
            )
        own = subject.id == caller.person.id
        title = "Your kudos" if own else f"Kudos for {subject.display_name or subject.external_id}"
        items = [
            ("Received this week", str(received_week)),
            ("Received this month", str(received_month)),
            ("Received in total", str(received_all)),
            ("Given this month", str(given_month)),
            ("Given in total", str(given_all)),
        ]
        if own:
            left = max(0, self.settings.allowance - used_today)
            items.append(("Left to give today", f"{left} of {self.settings.allowance}"))
        blocks: list = [Header(text=title), Fields(items=items)]
        if top_tags:
            labels = []
            for tag, count in top_tags:
                award = self.settings.award(tag)
                labels.append(
                    f"{award.emoji} {award.label} ×{count}" if award else f"#{tag} ×{count}"
                )
            blocks.append(Context(spans=[Text(text="Top values: " + "  ·  ".join(labels))]))
        summary = f"{title}: {received_all} received, {given_all} given."
        return Reply(messages=[Message(audience=ReplyTo(), text=summary, blocks=blocks)])

    async def top(self, caller: Caller, period: Period) -> Reply:
        if not self.settings.leaderboard:
            return Reply.refused("The leaderboard is turned off in this workspace.")
        zone = zone_of(caller.person, self.config)
        since = period_start(self.clock.now(), zone, period)
        async with self.db.read() as session:
            ranking = await recognitions.leaderboard(session, caller.workspace_id, since)
        label = {"week": "this week", "month": "this month", "quarter": "this quarter"}[period]
        if not ranking:
            return Reply.private(
                f"No kudos yet {label} — be the first: /kudos @someone what they did #tag"
            )
        blocks: list = [Header(text=f"🏆 Top kudos {label}")]
        lines: list[str] = []
        for rank, (person, count) in enumerate(ranking, start=1):
            medal = {1: "🥇", 2: "🥈", 3: "🥉"}.get(rank, f"{rank}.")
            blocks.append(
                Section(spans=[Text(text=f"{medal} "), _mention(person), Text(text=f" — {count}")])
            )
            lines.append(f"{rank}. {person.display_name} — {count}")
        return Reply(
            messages=[
                Message(
                    audience=ReplyTo(),
                    text=f"Top kudos {label}: " + "; ".join(lines),
                    blocks=blocks,
                )
            ]
        )


def _mention(person: Person) -> Mention:
    return Mention(user_id=person.external_id, name=person.display_name)
