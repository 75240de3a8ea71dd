"""Which `admins:` keys count where a person acts, Enterprise Grid included."""

from __future__ import annotations

from bot.ops.config import Config
from bot.people.actor import Actor, listed_admins


def keyed(admins: dict[str, list[str]]) -> Config:
    return Config.model_validate({"admins": admins})


def test_an_org_admin_is_admin_in_every_workspace_of_the_org() -> None:
    config = keyed({"E0ORG": ["W0ADA"]})
    in_sales = Actor("slack", "E0ORG", "W0ADA", team_id="T0SALES", enterprise_id="E0ORG")
    in_ops = Actor("slack", "E0ORG", "W0ADA", team_id="T0OPS", enterprise_id="E0ORG")
    assert listed_admins(config, in_sales, False) == {"w0ada"}
    assert listed_admins(config, in_ops, False) == {"w0ada"}


def test_a_workspace_admin_inside_an_org_is_admin_only_in_that_workspace() -> None:
    config = keyed({"T0SALES": ["W0ADA"]})
    in_sales = Actor("slack", "E0ORG", "W0ADA", team_id="T0SALES", enterprise_id="E0ORG")
    in_ops = Actor("slack", "E0ORG", "W0ADA", team_id="T0OPS", enterprise_id="E0ORG")
    assert listed_admins(config, in_sales, False) == {"w0ada"}
    assert listed_admins(config, in_ops, False) == set()


def test_outside_grid_the_workspace_is_the_only_key() -> None:
    config = keyed({"T0ONE": ["U0ADA"], "T0TWO": ["U0BOB"]})
    actor = Actor("slack", "T0ONE", "U0ADA", team_id="T0ONE")
    assert listed_admins(config, actor, False) == {"u0ada"}
