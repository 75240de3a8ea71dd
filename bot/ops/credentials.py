"""Which platform credentials make a complete set, and what is missing from a partial one.

A partial set is an operator's mistake (a secret not exported, a typo in a variable's name);
`run` and `check` stop on it with one line naming what is missing, instead of quietly falling
back to the console or skipping the platform.
"""

from __future__ import annotations

from bot.ops.config import Config

# Each mode's variables (app.yaml: the same names under slack:/teams:, lower case).
SLACK_SETS = {
    "HTTP": ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"),
    "OAuth": ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "SLACK_SIGNING_SECRET"),
    "Socket Mode": ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"),
}
TEAMS_SETS = {
    "MultiTenant": ("MICROSOFT_APP_ID", "MICROSOFT_APP_PASSWORD"),
    "SingleTenant": ("MICROSOFT_APP_ID", "MICROSOFT_APP_PASSWORD", "MICROSOFT_APP_TENANT_ID"),
    "UserAssignedMSI": ("MICROSOFT_APP_ID",),  # a managed identity: no password
}


def _slack_given(config: Config) -> set[str]:
    slack = config.slack
    values = {
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_SIGNING_SECRET": slack.signing_secret,
        "SLACK_APP_TOKEN": slack.app_token,
        "SLACK_CLIENT_ID": slack.client_id,
        "SLACK_CLIENT_SECRET": slack.client_secret,
    }
    return {name for name, value in values.items() if value}


def _teams_given(config: Config) -> set[str]:
    teams = config.teams
    values = {
        "MICROSOFT_APP_ID": teams.app_id,
        "MICROSOFT_APP_PASSWORD": teams.app_password,
        "MICROSOFT_APP_TENANT_ID": teams.app_tenant_id,
    }
    return {name for name, value in values.items() if value}


def slack_problem(config: Config) -> str | None:
    given = _slack_given(config)
    if not given:
        return None
    client = {"SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET"}
    if given & client and not client <= given:
        missing = " and ".join(sorted(client - given))
        return f"slack: OAuth needs {missing} too"
    if any(set(names) <= given for names in SLACK_SETS.values()):
        return None
    options = " or ".join(
        f"{' and '.join(n for n in names if n not in given)} ({mode})"
        for mode, names in SLACK_SETS.items()
        if given & set(names)
    )
    valid = "; ".join(f"{mode}: {' + '.join(names)}" for mode, names in SLACK_SETS.items())
    return (
        f"slack: {' and '.join(sorted(given))} set, but {options} missing "
        f"(complete sets — {valid})"
    )


def teams_problem(config: Config) -> str | None:
    given = _teams_given(config)
    if not given:
        return None
    mode = config.teams.app_type
    missing = [name for name in TEAMS_SETS[mode] if name not in given]
    if not missing:
        return None
    hint = (
        " (or MICROSOFT_APP_TYPE=UserAssignedMSI for a managed identity)"
        if missing == ["MICROSOFT_APP_PASSWORD"]
        else ""
    )
    return f"teams: {mode} needs {' and '.join(missing)}{hint}"


def problems(config: Config) -> list[str]:
    """One line per platform whose credentials are set only in part."""
    return [line for line in (slack_problem(config), teams_problem(config)) if line]
