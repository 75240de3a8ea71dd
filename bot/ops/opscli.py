"""The operator's subcommands of `kudos-pulse`: export, forget, copy-data.

`bot/cli.py` adds these parsers and handlers with one line each, so they live apart from
the commands that run the bot."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Coroutine
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from bot.ops.config import Config
from bot.runtime.clock import SystemClock

Handler = Callable[[Config, argparse.Namespace], Coroutine[Any, Any, int]]


def add_parsers(commands: Any) -> None:
    export = commands.add_parser(
        "export", help="write recognitions or pulse results as CSV or JSON lines"
    )
    export.add_argument("what", choices=["recognitions", "pulses"])
    export.add_argument("--format", dest="fmt", choices=["csv", "jsonl"], default="csv")
    export.add_argument("--since", help="only rows at or after this date (YYYY-MM-DD, UTC)")
    export.add_argument("--workspace", help="only this workspace (Slack team id, Teams tenant id)")
    export.add_argument("--out", type=Path, help="write here instead of standard output")

    forget = commands.add_parser(
        "forget", help="erase a person's personal data (kept counts stay consistent)"
    )
    forget.add_argument(
        "user",
        help="who: @handle, display name, or platform user id (U…, 29:…, a console handle)",
    )
    forget.add_argument("--workspace", help="only in this workspace (default: every workspace)")

    copy = commands.add_parser(
        "copy-data", help="copy every table from DATABASE_URL into an empty database"
    )
    copy.add_argument("--to", required=True, help="target URL, e.g. postgresql+asyncpg://…")
    copy.add_argument("--batch", type=int, default=1000, help="rows per insert (default 1000)")


async def _export(config: Config, args: argparse.Namespace) -> int:
    from bot.ops import export
    from storage.db import Database
    from storage.repositories import audit, workspaces

    try:
        since = export.parse_since(args.since) if args.since else None
    except ValueError as error:
        print(f"kudos-pulse export: {error}", file=sys.stderr)
        return 2
    db = Database(config.database_url)
    try:
        if args.what == "pulses":
            rows = export.pulse_batches(db, config, since=since, workspace=args.workspace)
            fields = export.pulse_fields()
        else:
            rows = export.recognition_batches(db, since=since, workspace=args.workspace)
            fields = export.RECOGNITION_FIELDS
        with ExitStack() as files:
            out = (
                files.enter_context(args.out.open("w", encoding="utf-8", newline=""))
                if args.out
                else sys.stdout
            )
            count = await export.write(rows, out, args.fmt, fields)
        async with db.write() as unit:
            workspace_id = await workspaces.id_of(unit, args.workspace) if args.workspace else None
            await audit.record(
                unit,
                workspace_id=workspace_id,
                actor="cli",
                action=f"export.{args.what}",
                detail=(
                    f"format={args.fmt} rows={count} since={args.since or '-'} "
                    f"workspace={args.workspace or 'all'}"
                ),
                now=SystemClock().now(),
            )
    finally:
        await db.dispose()
    where = args.out or "standard output"
    print(f"Exported {count} {args.what} as {args.fmt} to {where}.", file=sys.stderr)
    return 0


def _email_tag(config: Config, email: str) -> str | None:
    """The digest people rows keep of an address; None without the pulse key (then no
    address can be matched, and the lookup goes on by name and id)."""
    from bot.ops.keys import EmailTags, KeyProblem, load_keyring

    try:
        return EmailTags(load_keyring(config, create=False)).tag(email)
    except KeyProblem:
        return None


async def _forget(config: Config, args: argparse.Namespace) -> int:
    from bot.ops.forget import Ambiguous, forget, looks_like_email
    from storage.db import Database

    who = args.user
    tag = _email_tag(config, who) if looks_like_email(who) else None
    db = Database(config.database_url)
    try:
        done = await forget(
            db, who, workspace=args.workspace, now=SystemClock().now(), email_tag=tag
        )
    except Ambiguous as ambiguous:
        print(
            f"kudos-pulse forget: {who!r} names {len(ambiguous.candidates)} people; nothing "
            "was changed. Name one by platform id (with --workspace if needed):"
        )
        for c in ambiguous.candidates:
            print(f"  {c.platform} workspace {c.workspace}: id {c.user_id} ({c.display_name!r})")
        return 1
    finally:
        await db.dispose()
    if not done:
        where = f" in workspace {args.workspace}" if args.workspace else ""
        print(
            f"kudos-pulse forget: no one held under {who!r}{where} (never seen, or already "
            "forgotten). Nothing was changed."
        )
        if looks_like_email(who):
            print(
                "  Addresses are known only where the platform gave one (Slack with the "
                "users:read.email scope, Teams rosters): name them by @handle, display name "
                "or platform id."
            )
        return 1
    for place in done:
        extra = "".join(f", {count} {name}" for name, count in place.other.items())
        print(
            f"Forgot {who} (id {place.user_id}) in {place.platform} workspace {place.workspace}: "
            f"name and ids erased, {place.reasons} reasons, {place.references} conversation "
            f"references{extra}; messages naming them: {place.queued} still queued (cancelled "
            f"or renamed before sending), {place.sent} already sent (the bot's copy erased; "
            f"what was delivered stays on the platform), {place.unsent} never sent (erased). "
            "Counts are kept; recorded in the audit log."
        )
    return 0


async def _copy_data(config: Config, args: argparse.Namespace) -> int:
    from storage.copy import CopyRefused, copy_all, row_counts
    from storage.db import Database, same_database, shown_url

    if same_database(args.to, config.database_url):
        print("kudos-pulse copy-data: --to is the database in use; name another one.")
        return 2
    source, target = Database(config.database_url), Database(args.to)
    shown = shown_url(args.to)
    try:
        print(f"Copying {source.backend} → {shown} (stop the bot first so nothing changes) …")
        copied = await copy_all(
            source,
            target,
            batch=args.batch,
            progress=lambda table, rows: print(f"  {table}: {rows} rows"),
        )
        before, after = await row_counts(source), await row_counts(target)
    except CopyRefused as refusal:
        print(f"kudos-pulse copy-data: refused: {refusal}. Nothing was copied.")
        return 1
    finally:
        await source.dispose()
        await target.dispose()
    differ = [name for name in before if before[name] != after.get(name)]
    if differ:
        print(f"Counts differ afterwards in {', '.join(differ)} — was the bot still running?")
        return 1
    print(
        f"Copied {sum(copied.values())} rows in {len(copied)} tables; every count matches. "
        "Point DATABASE_URL at the new database and start the bot."
    )
    return 0


HANDLERS: dict[str, Handler] = {"export": _export, "forget": _forget, "copy-data": _copy_data}
