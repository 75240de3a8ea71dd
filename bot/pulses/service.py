"""Pulse commands: schedule, now, list, pause/resume/cancel, results, and answers."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from bot.lexicon import clean_user_text, typed_number
from bot.messages import (
    Block,
    Chart,
    Context,
    Mention,
    Message,
    Refused,
    Reply,
    ReplyTo,
    Section,
    Span,
    Text,
    ToPerson,
    plain_text,
)
from bot.ops.config import Config
from bot.ops.keys import FingerprintCheck, KeyProblem
from bot.ops.metrics import COMMANDS
from bot.people.actor import Caller, zone_of
from bot.pulses import audience, rules, timing, visibility
from bot.pulses.ballot import Answer, BallotBox
from bot.pulses.commands import (
    AnswerPulse,
    CancelRound,
    ChangePulse,
    ChannelAudience,
    ClosePulse,
    Cron,
    Once,
    PulseNow,
    PulseResults,
    SchedulePulse,
    TeamAudience,
    UsersAudience,
    Weekly,
)
from bot.pulses.rounds import Rounds, identity
from bot.runtime import outbox
from bot.runtime.clock import Clock
from storage.db import Database
from storage.models import PulseSchedule
from storage.repositories import audit
from storage.repositories import pulses as repo

_NO_OPEN_PULSE = (
    "There is no open pulse {round_id}. /pulse list shows the open pulses (pulse N) apart "
    "from the schedules (schedule N)."
)
# Rounds this recent (open, or closed and shown) are compared with a new audience.
COMPARABLE_FOR = timedelta(days=90)


class PulseService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        config: Config,
        rounds: Rounds,
        box: BallotBox,
        key_check: FingerprintCheck,
    ) -> None:
        self.db = db
        self.clock = clock
        self.config = config
        self.rounds = rounds
        self.box = box
        self.key_check = key_check

    # -- admin commands ----------------------------------------------------------------------

    async def schedule(self, caller: Caller, command: SchedulePulse) -> Reply:
        return await self._counted("pulse", self._schedule(caller, command))

    async def _schedule(self, caller: Caller, command: SchedulePulse) -> Reply:
        rules.check_admin(caller.is_admin, "schedule pulses")
        now = self.clock.now()
        zone_name = command.timezone or zone_of(caller.person, self.config).key
        timing.zone(zone_name)  # an unknown zone is refused before anything else
        cadence = command.cadence
        cron: str | None
        if isinstance(cadence, Once):
            cron = None
            next_at = rules.once_at(cadence.day, cadence.at, zone_name, now)
            when = f"once, {timing.local_time(next_at, zone_name)}"
        else:
            if isinstance(cadence, Weekly):
                cron = timing.weekly_cron(cadence.weekdays, cadence.at)
                when = f"every {','.join(cadence.weekdays)} at {cadence.at:%H:%M}"
            else:
                assert isinstance(cadence, Cron)
                cron = cadence.expression
                when = f'cron "{cron}"'
            next_at = timing.next_fire(cron, zone_name, now)
            if next_at is None:
                raise Refused(f"The schedule {when} never fires again. Check the date fields.")
        stored_audience, members = await self._audience(caller, command.audience)
        open_minutes = rules.open_minutes(command.open_minutes, self.config.pulses.open_hours)
        schedule = await self._store(
            caller,
            command.subject,
            stored_audience,
            cron,
            zone_name,
            open_minutes,
            next_at,
            now,
            "pulse.schedule",
        )
        return _confirmation(
            f"✅ Pulse schedule {schedule.id}: “{command.subject}” to ",
            await self._named(caller, stored_audience),
            f", {when} ({zone_name}), open {_duration(open_minutes)}. First round: "
            f"{timing.local_time(next_at, zone_name)}." + await self._warnings(caller, members),
        )

    async def now(self, caller: Caller, command: PulseNow) -> Reply:
        return await self._counted("pulse", self._now(caller, command))

    async def _now(self, caller: Caller, command: PulseNow) -> Reply:
        rules.check_admin(caller.is_admin, "send pulses")
        now = self.clock.now()
        stored_audience, members = await self._audience(caller, command.audience)
        warnings = await self._warnings(caller, members)
        open_minutes = rules.open_minutes(command.open_minutes, self.config.pulses.open_hours)
        zone_name = zone_of(caller.person, self.config).key
        schedule = await self._store(
            caller,
            command.subject,
            stored_audience,
            None,
            zone_name,
            open_minutes,
            now,
            now,
            "pulse.now",
        )
        round_ = await self.rounds.fire(schedule, now, members=members)
        if round_ is None:
            return Reply.private(f"📊 Pulse schedule {schedule.id} is going out now.")
        return _confirmation(
            f"📊 Pulse {round_.id} “{command.subject}” is on its way to {round_.invited} "
            f"{'person' if round_.invited == 1 else 'people'} (",
            await self._named(caller, stored_audience),
            f"); it closes {timing.local_time(round_.closes_at, zone_name)}." + warnings,
        )

    async def list(self, caller: Caller) -> Reply:
        if not caller.is_admin:
            return Reply.refused(rules.ADMINS_ONLY.format(what="list pulse schedules"))
        async with self.db.read() as session:
            found = await repo.schedules(session, caller.workspace_id)
            running = await repo.open_rounds(session, caller.workspace_id)
        if not found and not running:
            return Reply.private("No pulse schedules yet. Start one with /pulse schedule.")
        lines = [] if found else ["No pulse schedules."]
        for schedule in found:
            when = f'cron "{schedule.cron}"' if schedule.cron else "once"
            next_at = (
                timing.local_time(schedule.next_fire_at, schedule.timezone)
                if schedule.next_fire_at and schedule.status == repo.ACTIVE
                else "—"
            )
            lines.append(
                f"schedule {schedule.id}. “{schedule.subject}” → "
                f"{audience.describe(schedule.audience)} · "
                f"{when} · {schedule.timezone} · open {_duration(schedule.open_minutes)} · "
                f"{schedule.status} · next {next_at}"
            )
        if running:
            lines.append(
                "Open pulses (/pulse close N: end now with results; /pulse cancel pulse N: "
                "end without):"
            )
        for round_ in running:
            zone_name = zone_of(caller.person, self.config).key
            lines.append(
                f"pulse {round_.id} “{round_.subject}” · schedule {round_.schedule_id} · "
                f"asked {round_.invited} · closes {timing.local_time(round_.closes_at, zone_name)}"
            )
        blocks: list[Block] = [Section(spans=[Text(text=line)]) for line in lines]
        return Reply(messages=[Message(audience=ReplyTo(), text="\n".join(lines), blocks=blocks)])

    async def close(self, caller: Caller, command: ClosePulse) -> Reply:
        return await self._counted("pulse", self._close(caller, command))

    async def _close(self, caller: Caller, command: ClosePulse) -> Reply:
        rules.check_admin(caller.is_admin, "close pulses")
        now = self.clock.now()
        async with self.db.write() as session:
            round_ = await repo.round_by_id(session, caller.workspace_id, command.round_id)
            if round_ is None or not await repo.close_early(session, command.round_id, now):
                raise Refused(_NO_OPEN_PULSE.format(round_id=command.round_id))
            await audit.record(
                session,
                workspace_id=caller.workspace_id,
                actor=caller.actor.user_id,
                action="pulse.close",
                detail=f"pulse {command.round_id}",
                now=now,
            )
        await self.rounds.close_due(now)  # as at its end: results to its owner and lead
        return Reply.private(
            f"🔒 Pulse {command.round_id} “{round_.subject}” is closed; its results are on "
            "their way to its owner (and a team's lead)."
        )

    async def cancel_round(self, caller: Caller, command: CancelRound) -> Reply:
        return await self._counted("pulse", self._cancel_round(caller, command))

    async def _cancel_round(self, caller: Caller, command: CancelRound) -> Reply:
        rules.check_admin(caller.is_admin, "cancel pulses")
        async with self.db.write() as session:
            round_ = await repo.round_by_id(session, caller.workspace_id, command.round_id)
            if round_ is None or not await self.rounds.cancel(session, command.round_id):
                raise Refused(_NO_OPEN_PULSE.format(round_id=command.round_id))
            await audit.record(
                session,
                workspace_id=caller.workspace_id,
                actor=caller.actor.user_id,
                action="pulse.cancel_round",
                detail=f"pulse {command.round_id}",
                now=self.clock.now(),
            )
        await self.db.compact(repo.BALLOT_TABLE)  # the deleted answers' old versions go too
        return Reply.private(
            f"🗑 Pulse {command.round_id} “{round_.subject}” is cancelled: no results, its "
            "answers are deleted unread. Its schedule (if it repeats) goes on; "
            f"/pulse cancel schedule {round_.schedule_id} stops that."
        )

    async def change(self, caller: Caller, command: ChangePulse) -> Reply:
        return await self._counted("pulse", self._change(caller, command))

    async def _change(self, caller: Caller, command: ChangePulse) -> Reply:
        rules.check_admin(caller.is_admin, f"{command.action} pulse schedules")
        now = self.clock.now()
        async with self.db.write() as session:
            schedule = await repo.schedule(session, caller.workspace_id, command.schedule_id)
            if schedule is None or schedule.status in (repo.CANCELLED, repo.DONE):
                raise Refused(
                    f"There is no active pulse schedule {command.schedule_id}. See /pulse list."
                )
            assert schedule.id is not None
            if command.action == "pause":
                if schedule.status == repo.PAUSED:
                    raise Refused(f"Pulse schedule {schedule.id} is already paused.")
                await repo.set_status(session, schedule.id, repo.PAUSED, schedule.next_fire_at)
                text = f"⏸ Pulse schedule {schedule.id} is paused. /pulse resume {schedule.id} "
                text += "restarts it."
            elif command.action == "resume":
                if schedule.status == repo.ACTIVE:
                    raise Refused(f"Pulse schedule {schedule.id} is not paused.")
                next_at = rules.resume_at(
                    schedule.cron, schedule.timezone, schedule.next_fire_at, now
                )
                if next_at is None:
                    raise Refused(
                        f"Pulse schedule {schedule.id} has no firing left; schedule a new one."
                    )
                await repo.set_status(session, schedule.id, repo.ACTIVE, next_at)
                text = (
                    f"▶ Pulse schedule {schedule.id} resumed. Next round: "
                    f"{timing.local_time(next_at, schedule.timezone)}."
                )
            else:
                await repo.set_status(session, schedule.id, repo.CANCELLED, None)
                text = (
                    f"🗑 Pulse schedule {schedule.id} is cancelled; rounds already open "
                    "still close and report as usual."
                )
            await audit.record(
                session,
                workspace_id=caller.workspace_id,
                actor=caller.actor.user_id,
                action=f"pulse.{command.action}",
                detail=f"schedule {schedule.id}",
                now=now,
            )
        return Reply.private(text)

    async def results(self, caller: Caller, command: PulseResults) -> Reply:
        async with self.db.read() as session:
            led = (
                []
                if caller.is_admin
                else await repo.led_team_ids(session, caller.workspace_id, caller.person_id)
            )
            if not caller.is_admin and not led:
                return Reply.refused(
                    "Only admins, and team leads for their own teams, can see pulse results."
                )
            if command.round_id is None:
                round_ = await repo.latest_closed_round(
                    session, caller.workspace_id, None if caller.is_admin else led
                )
                if round_ is None:
                    return Reply.private("No pulse round has closed yet.")
            else:
                round_ = await repo.round_by_id(session, caller.workspace_id, command.round_id)
                allowed = round_ is not None and rules.may_read_results(
                    caller.is_admin, round_.team_id, led
                )
                if round_ is None or not allowed:
                    return Reply.refused(
                        f"There is no pulse round {command.round_id} whose results you can see."
                    )
            text, blocks = await self.rounds.results(session, round_)
        charts = await self.rounds.charts(round_)
        if charts:
            await self._send_charts(caller, round_.id or 0, charts)
            note = "Charts of these results follow in a direct message from me."
            blocks = [*blocks, Context(spans=[Text(text=note)])]
        return Reply(messages=[Message(audience=ReplyTo(), text=text, blocks=blocks)])

    async def _send_charts(self, caller: Caller, round_id: int, charts: list[Chart]) -> None:
        """The pictures go through the outbox, which draws them in its own process after this
        reply: by DM to whoever asked, since results are theirs alone, not the channel's."""
        now = self.clock.now()
        message = Message(
            audience=ToPerson(user_id=caller.actor.user_id),
            text=f"Charts for pulse {round_id}",
            blocks=list(charts),
        )
        async with self.db.write() as session:
            await outbox.enqueue(
                session,
                workspace_id=caller.workspace_id,
                platform=caller.workspace.platform,
                key=f"pulse-charts:{round_id}:{caller.actor.user_id}:{now.isoformat()}",
                message=message,
                now=now,
            )
        self.rounds.on_enqueue()

    # -- answering ---------------------------------------------------------------------------

    async def answer_form(
        self,
        caller: Caller,
        values: Mapping[str, object],
        context: Mapping[str, str],
        _dedupe_key: str | None,
    ) -> Reply:
        # The dedupe key is deliberately not stored: a (user, time) record of a submission
        # would tell who answered when. Answering twice simply replaces the answer.
        return await self._counted("answer", self._answer_form(caller, values, context))

    async def _answer_form(
        self, caller: Caller, values: Mapping[str, object], context: Mapping[str, str]
    ) -> Reply:
        round_id = typed_number(context.get("round", ""), 1)
        if round_id is None:
            raise Refused("That pulse is no longer available.")
        easy = rules.rating_from_form(values.get("easy"), "easy")
        value = rules.rating_from_form(values.get("value"), "value")
        comment = values.get("comment")
        return await self._answer(
            caller, AnswerPulse(round_id, easy, value, str(comment or ""))
        )

    async def answer(self, caller: Caller, command: AnswerPulse) -> Reply:
        return await self._counted("answer", self._answer(caller, command))

    async def _answer(self, caller: Caller, command: AnswerPulse) -> Reply:
        rules.check_ratings(command.easy, command.value)
        comment = rules.check_comment(command.comment)
        try:
            await self.key_check.ensure()
        except KeyProblem:
            raise Refused(
                "⚠️ Your answer was NOT saved: pulses are misconfigured on this server (its "
                "pulse key does not match). Please tell your admin (`kudos-pulse check`)."
            ) from None
        tag = self.box.tag(command.round_id, identity(caller.workspace, caller.actor.user_id))
        bucket = self.box.bucket_of(tag)
        now = self.clock.now()
        # One write, to one sealed bucket, and nothing else in this request: no "answered"
        # flag, no dedupe row, no person refresh (docs/PRIVACY.md).
        async with self.db.write() as session:
            round_ = await repo.round_by_id(session, caller.workspace_id, command.round_id)
            asked = (
                round_ is not None
                and await repo.delivery(session, command.round_id, caller.person_id) is not None
            )
            if round_ is None or not asked:
                raise Refused(
                    f"You weren't asked in pulse {command.round_id}, so there is nothing to answer."
                )
            if not rules.accepts_answers(round_.closed, round_.closes_at, now):
                raise Refused(rules.CLOSED)
            sealed = await repo.locked_ballot(session, command.round_id, bucket)
            answers = self.box.open(command.round_id, bucket, sealed)
            answers[tag] = Answer(easy=command.easy, value=command.value, comment=comment)
            await repo.save_ballot(
                session, command.round_id, bucket, self.box.seal(command.round_id, bucket, answers)
            )
            schedule = await repo.schedule(session, round_.workspace_id, round_.schedule_id)
        zone_name = schedule.timezone if schedule else self.config.default_timezone
        # The scores are never repeated: a platform keeps this reply in the person's chat.
        thanks = f"✅ Thanks! Your answer to pulse {command.round_id} is saved anonymously."
        until = (
            f"Answer again to change it, until {timing.local_time(round_.closes_at, zone_name)}."
        )
        blocks: list[Block] = [
            Section(spans=[Text(text=thanks)]),
            Context(spans=[Text(text=until)]),
        ]
        return Reply(messages=[Message(audience=ReplyTo(), text=thanks, blocks=blocks)])

    # -- helpers -----------------------------------------------------------------------------

    async def _counted(self, kind: str, work: Any) -> Reply:
        try:
            reply: Reply = await work
        except Refused as refusal:
            COMMANDS.labels(kind, "refused").inc()
            return refusal.reply()
        except timing.ScheduleError as error:
            COMMANDS.labels(kind, "refused").inc()
            return Reply.refused(str(error))
        COMMANDS.labels(kind, "ok" if reply.ok else "refused").inc()
        return reply

    async def _audience(self, caller: Caller, wanted: Any) -> tuple[dict[str, Any], list[str]]:
        """The audience as stored, after checking that it names somebody right now."""
        if isinstance(wanted, ChannelAudience):
            stored: dict[str, Any] = {"kind": "channel", "channel_id": wanted.channel_id}
            empty = f"#{wanted.channel_id} has no members I can see — invite me, or pick another."
        elif isinstance(wanted, TeamAudience):
            async with self.db.read() as session:
                team = await repo.team_by_name(session, caller.workspace_id, wanted.name)
            if team is None:
                raise Refused(f"There is no team called '{wanted.name}'. See /team list.")
            stored = {"kind": "team", "team_id": team.id, "name": team.name}
            empty = f"team:{team.name} has no members yet. Add some with /team add."
        else:
            assert isinstance(wanted, UsersAudience)
            people = [await caller.directory.person(user) for user in wanted.user_ids]
            humans = [info.user_id for info in people if info is not None and not info.is_bot]
            stored = {"kind": "users", "user_ids": humans}
            empty = "None of the people listed can be asked (bots are never asked)."
        members = await audience.members(self.db, caller.directory, caller.workspace_id, stored)
        if not members:
            raise Refused(f"Nobody to ask: {empty}")
        return stored, members

    async def _named(self, caller: Caller, stored: dict[str, Any]) -> list[Span]:
        """The audience as the admin should read it: listed people by name, not by id."""
        spans = await audience.describe_spans(self.db, caller.workspace_id, stored)
        named: list[Span] = []
        for span in spans:
            if isinstance(span, Mention) and not span.name:
                info = await caller.directory.person(span.user_id)
                span = Mention(user_id=span.user_id, name=info.display_name if info else "")
            named.append(span)
        return named

    async def _warnings(self, caller: Caller, members: list[str]) -> str:
        """What an admin should know before the answers come in: an audience too small to
        ever show results, or one so close to another round's that only one can be shown."""
        k = self.config.pulses.min_responses
        notes = []
        if len(members) < k:
            notes.append(
                f"⚠️ Only {len(members)} {'person is' if len(members) == 1 else 'people are'} "
                f"asked: results are shown only with at least {k} answers, so this round "
                "will never show any."
            )
        async with self.db.read() as session:
            known = await repo.person_ids(session, caller.workspace_id, members)
            recent = await repo.comparable_rounds(
                session, caller.workspace_id, self.clock.now() - COMPARABLE_FOR
            )
            invited = await repo.invited_ids(session, recent)
        populations = [visibility.Population(r, invited[r]) for r in recent]
        # People we have never met are in no earlier round: each counts as someone new.
        newcomers = {-n for n in range(1, len(members) - len(known) + 1)}
        clash = visibility.near_duplicates(frozenset(known | newcomers), populations, k)
        if clash:
            notes.append(
                f"⚠️ This audience differs from pulse {clash[0]}'s by fewer than {k} people. "
                "Comparing the two would reveal individual answers, so only the first of them "
                "to close will show results; the other's stay hidden."
            )
        return "".join(f"\n{note}" for note in notes)

    async def _store(
        self,
        caller: Caller,
        subject: str,
        stored_audience: dict[str, Any],
        cron: str | None,
        zone_name: str,
        open_minutes: int,
        next_at: datetime,
        now: datetime,
        action: str,
    ) -> PulseSchedule:
        async with self.db.write() as session:
            schedule = await repo.add_schedule(
                session,
                PulseSchedule(
                    workspace_id=caller.workspace_id,
                    owner_id=caller.person_id,
                    subject=clean_user_text(subject),
                    audience=stored_audience,
                    cron=cron,
                    timezone=zone_name,
                    open_minutes=open_minutes,
                    status=repo.ACTIVE,
                    next_fire_at=next_at,
                    created_at=now,
                ),
            )
            await audit.record(
                session,
                workspace_id=caller.workspace_id,
                actor=caller.actor.user_id,
                action=action,
                detail=f"schedule {schedule.id}: {subject}",
                now=now,
            )
        return schedule


def _duration(minutes: int) -> str:
    span = timedelta(minutes=minutes)
    if minutes % 1440 == 0:
        return f"{span.days}d"
    if minutes % 60 == 0:
        return f"{minutes // 60}h"
    return f"{minutes}m"


def _confirmation(before: str, audience_spans: list[Span], after: str) -> Reply:
    """A private confirmation naming the audience with real mentions (they never ping in a
    private answer) and the same words as plain text for notifications."""
    spans: list[Span] = [Text(text=before), *audience_spans, Text(text=after)]
    message = Message(audience=ReplyTo(), text=plain_text(spans), blocks=[Section(spans=spans)])
    return Reply(messages=[message])
