"""A small organisation whose digest numbers are worked out by hand (see the test module)."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.runtime.clock import ManualClock
from tests.conftest import ConsoleHarness

# Friday 20 Nov 2026 16:00 UTC: "this week" is Fri 13 Nov 16:00 → Fri 20 Nov 16:00 (UTC),
# "last week" the seven days before, "quiet" means nothing received since Wed 21 Oct 16:00.
DIGEST_TIME = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)


async def build_support_team(console: ConsoleHarness, clock: ManualClock) -> None:
    """support: lead dana; members bob, carol, erin. frank and alice are outside the team."""
    clock.set(datetime(2026, 10, 5, 10, 0, tzinfo=UTC))  # 46 days before: erin's last kudos
    await console.say("/kudos @erin for writing the ops handbook", as_user="alice")
    clock.set(datetime(2026, 11, 10, 10, 0, tzinfo=UTC))  # last week
    await console.say("/kudos @bob for the migration runbook #value", as_user="frank")
    await console.say("/kudos @frank for reviewing the migration plan", as_user="bob")
    clock.set(datetime(2026, 11, 16, 10, 0, tzinfo=UTC))  # this week from here on
    await console.say("/kudos @bob @carol for untangling the refund flow #easy #value", "alice")
    clock.set(datetime(2026, 11, 17, 10, 0, tzinfo=UTC))
    await console.say("/kudos @bob for pairing on the flaky test #easy", as_user="frank")
    clock.set(datetime(2026, 11, 18, 10, 0, tzinfo=UTC))
    await console.say("/kudos @frank for the quick deploy fix #value", as_user="carol")
    clock.set(datetime(2026, 11, 18, 11, 0, tzinfo=UTC))
    await console.say("/kudos @carol for covering support on Tuesday", as_user="bob")
    clock.set(datetime(2026, 11, 19, 10, 0, tzinfo=UTC))
    await console.say("/kudos @carol for a great onboarding doc", as_user="frank")
    await console.say("/kudos undo", as_user="frank")  # withdrawn: never counted
    clock.set(datetime(2026, 11, 19, 12, 0, tzinfo=UTC))
    created = await console.say(
        "/team create support lead @dana members @bob @carol @erin", as_user="admin"
    )
    assert "✅ Team support created" in created, created
