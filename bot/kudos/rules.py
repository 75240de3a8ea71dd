"""The rules of kudos as pure decisions: no I/O, no database, no clock of their own.

The service looks people up and stores what these rules allow; everything here is decided
from plain values, so each rule is unit-tested without a database (tests/unit/).
A refusal is raised as `Refused`, whose text is what the giver reads.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol, TypeVar
from zoneinfo import ZoneInfo

from bot.kudos.commands import Period
from bot.lexicon import shorten
from bot.messages import Refused
from bot.ops.config import KudosSettings

# -- the daily allowance ----------------------------------------------------------------------


def giver_day(now: datetime, zone: ZoneInfo) -> date:
    """The day whose allowance a kudos counts against: the giver's own calendar date, so the
    count starts again at midnight where the giver is, whatever the server's zone."""
    return now.astimezone(zone).date()


@dataclass(frozen=True)
class Allowance:
    """A giver's recipient-awards for one local day: `daily` in all, `used` already given."""

    daily: int
    used: int

    @property
    def left(self) -> int:
        # `used` can exceed `daily` after an admin lowers the allowance: nothing is left then.
        return max(0, self.daily - self.used)

    def take(self, awards: int) -> int:
        """What is left after `awards` more, or a refusal when they do not all fit: a kudos to
        several people is given to all of them or to none."""
        if awards <= self.left:
            return self.left - awards
        if self.left == 0:
            raise Refused(
                f"You've given all {self.daily} of today's kudos — thank you for "
                "being generous! Your allowance refills tomorrow.",
                "recipients",
            )
        raise Refused(
            f"You have {self.left} kudos left today, but this would give "
            f"{awards}. Thank fewer people, or try again tomorrow.",
            "recipients",
        )


# -- recipients -------------------------------------------------------------------------------


class Recipient(Protocol):
    """What the recipient rules need to know of a person we have on record."""

    display_name: str
    is_bot: bool
    is_external: bool
    forgotten_at: datetime | None


R = TypeVar("R", bound=Recipient)


# Directory look-ups one kudos may cause: people thanked, and people named in its reason.
# Checked before the first look-up, so a command naming hundreds costs nothing.
MAX_RECIPIENTS = 25
MAX_NAMED_IN_REASON = 10


def check_recipient_count(user_ids: Sequence[str]) -> None:
    if len(user_ids) > MAX_RECIPIENTS:
        raise Refused(
            f"A kudos can thank at most {MAX_RECIPIENTS} people at once; you named "
            f"{len(user_ids):,}. Thank a smaller group.",
            "recipients",
        )


def check_named_in_reason(user_ids: Sequence[str], *, strict: bool) -> list[str]:
    """The people named in a reason whose names are looked up. A typed reason may name only a
    few; a reacted-to message is taken as it is, and the rest of its mentions stay ids."""
    if strict and len(user_ids) > MAX_NAMED_IN_REASON:
        raise Refused(
            f"Your reason mentions {len(user_ids):,} people; it can mention at most "
            f"{MAX_NAMED_IN_REASON}.",
            "reason",
        )
    return list(user_ids)[:MAX_NAMED_IN_REASON]


def distinct_recipients(user_ids: Sequence[str]) -> list[str]:
    """Each person once, in the order named: thanking @sam twice is one award, not two."""
    if not user_ids:
        raise Refused("Choose at least one person to thank.", "recipients")
    return list(dict.fromkeys(user_ids))


def check_not_self(user_id: str, giver_id: str) -> None:
    if user_id == giver_id:
        raise Refused(
            "You can't give kudos to yourself — but thanks for the enthusiasm! "
            "Pick someone who helped you.",
            "recipients",
        )


def check_recipient(user_id: str, person: R | None) -> R:
    """The person to thank: one of this workspace, not an unknown id, a bot or the forgotten."""
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
    if person.is_external:
        raise Refused(
            f"{person.display_name or user_id} is a guest from another organisation (a shared "
            "channel): kudos and their stats stay inside this organisation, so they can't "
            "receive one here. Thank them in the channel instead!",
            "recipients",
        )
    return person


# -- the reason and the tags ------------------------------------------------------------------

NO_TEXT = "(no text)"


def check_reason_length(reason: str, settings: KudosSettings) -> None:
    limit = settings.max_reason_length
    if len(reason) > limit:
        raise Refused(
            f"Your reason is {len(reason):,} characters; the limit is {limit:,}. "
            "Please shorten it.",
            "reason",
        )


def check_reason(reason: str, settings: KudosSettings, *, strict: bool) -> str:
    """The reason as stored. Typed and form kudos must say what the person did; a reaction's
    message is taken as it is (shortened to the limit), since nobody typed it as a reason."""
    limit = settings.max_reason_length
    if not strict:
        return shorten(reason or NO_TEXT, limit)
    if not reason:
        raise Refused(
            "Add a reason — what did they do? For example: "
            "/kudos @sam for untangling the refund flow #easy",
            "reason",
        )
    check_reason_length(reason, settings)
    if reason_words(reason) < settings.min_reason_words:
        raise Refused(
            f"Say a little more about what they did (at least "
            f"{settings.min_reason_words} words), so the kudos means something.",
            "reason",
        )
    return reason


def reason_words(reason: str) -> int:
    """Words that say something: a leading "for" and bare punctuation do not count."""
    words = [word for word in reason.split() if re.search(r"\w", word)]
    if words and words[0].lower() == "for":
        words = words[1:]
    return len(words)


def check_tags(tags: Sequence[str], settings: KudosSettings, *, strict: bool) -> tuple[str, ...]:
    """The configured awards among `tags`. A typed unknown tag is refused with the valid ones
    listed; in a reacted-to message, a #word that is not an award is just text."""
    known = [tag for tag in tags if settings.award(tag)]
    unknown = [tag for tag in tags if not settings.award(tag)]
    if unknown and strict:
        valid = ", ".join(f"#{award.tag} ({award.label})" for award in settings.awards)
        listed = ", ".join(f"#{tag}" for tag in unknown)
        noun = "tag" if len(unknown) == 1 else "tags"
        raise Refused(f"Unknown {noun} {listed}. Valid tags: {valid}.", "tags")
    return tuple(known)


# -- undo -------------------------------------------------------------------------------------


def may_undo(given_at: datetime, now: datetime, undo_minutes: int) -> bool:
    """`/kudos undo` reaches back `undo_minutes`, the last minute included."""
    return now - given_at <= timedelta(minutes=undo_minutes)


# -- where it is announced, and the outbox keys that make it happen once ----------------------


def celebration_channel(configured: str | None, given_in: str | None) -> str | None:
    """The configured kudos channel, else where the kudos was given (None: a DM, no post)."""
    return configured or given_in


@dataclass(frozen=True)
class Quiet:
    """How loud a workspace's kudos are: where celebrations go, and whether recipients get
    DMs. app.yaml gives the defaults (a post where the kudos was given, and a DM); what admins
    set in chat wins."""

    celebrate: str  # here | channel | thread | nowhere
    channel: str | None
    dms: bool


def celebrate_key(workspace_id: int) -> str:
    return f"kudos.celebrate:{workspace_id}"


def dms_key(workspace_id: int) -> str:
    return f"kudos.dms:{workspace_id}"


def notify_off_key(person_id: int) -> str:
    # A person's own setting: under the `person:<id>:` prefix every per-person setting uses,
    # so `forget` erases it with the rest (storage/repositories/settings.py).
    return f"person:{person_id}:kudos.notify-off"


def quiet(
    celebrate: str, channel: str | None, dms: bool, stored: dict[str, str], workspace_id: int
) -> Quiet:
    """The configured defaults with the workspace's stored choices on top. A stored
    celebration is "here", "nowhere" or "channel:<id>"."""
    chosen = stored.get(celebrate_key(workspace_id))
    if chosen:
        mode, _, picked = chosen.partition(":")
        celebrate, channel = mode, picked or channel
    dms_chosen = stored.get(dms_key(workspace_id))
    if dms_chosen is not None:
        dms = dms_chosen == "on"
    return Quiet(celebrate=celebrate, channel=channel, dms=dms)


def celebration_target(settings: Quiet, given_in: str | None) -> str | None:
    """Where the celebration is posted; None: nowhere (or a kudos given in a DM, "here")."""
    if settings.celebrate == "nowhere":
        return None
    if settings.celebrate in ("channel", "thread"):
        return settings.channel
    return given_in


def daily_post_key(workspace_id: int, channel: str, day: date) -> str:
    """The day's kudos post a "thread" workspace's celebrations reply under: one per channel
    and day, whichever kudos comes first queues it."""
    return f"kudos:daily:{workspace_id}:{channel}:{day.isoformat()}"


def channel_named_in_dm(given_in: str | None, celebrated_in: str | None) -> str | None:
    """A recipient's DM points to the celebration only when it is where they were thanked."""
    return celebrated_in if given_in and given_in == celebrated_in else None


def post_key(recognition_id: int) -> str:
    return f"kudos:{recognition_id}:post"


def dm_key(recognition_id: int, user_id: str) -> str:
    return f"kudos:{recognition_id}:dm:{user_id}"


def withdrawn_key(recognition_id: int) -> str:
    return f"kudos:{recognition_id}:withdrawn"


# -- stats and leaderboard periods ------------------------------------------------------------


def period_start(now: datetime, zone: ZoneInfo, period: Period) -> datetime:
    """Start of the current week (Monday), month or quarter in `zone`, as aware UTC-comparable."""
    local = now.astimezone(zone)
    day = local.date()
    if period == "week":
        day -= timedelta(days=day.weekday())
    elif period == "month":
        day = day.replace(day=1)
    else:
        day = day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    return datetime(day.year, day.month, day.day, tzinfo=zone)
