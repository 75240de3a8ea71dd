"""Wires kudos into the bot: its command words, commands, the kudos form and reactions."""

from __future__ import annotations

from collections.abc import Mapping

from bot.host import Host
from bot.kudos.commands import (
    GiveKudos,
    KudosForReaction,
    KudosSettings,
    OpenKudosForm,
    RevokeReactionKudos,
    SetNotify,
    ShowHelp,
    ShowStats,
    ShowTop,
    UndoKudos,
)
from bot.kudos.grammar import PARSERS, command_from_form
from bot.kudos.messages import KUDOS_FORM, form_reply, help_reply
from bot.kudos.service import GiveOptions, RecognitionService
from bot.lexicon import tags_in
from bot.messages import Reply
from bot.people.actor import Caller


def install(host: Host) -> RecognitionService:
    kudos = RecognitionService(host.db, host.clock, host.config, host.people, host.wake_outbox)
    host.register_parsers(PARSERS)

    async def give(caller: Caller, command: GiveKudos) -> Reply:
        return await kudos.give(caller, command, GiveOptions(dedupe_key=command.dedupe_key))

    async def give_for_reaction(caller: Caller, command: KudosForReaction) -> Reply:
        given = GiveKudos(
            recipients=(command.author_id,),
            reason=command.message_text,
            tags=tags_in(command.message_text),
        )
        options = GiveOptions(
            source="reaction",
            source_ref=command.message_ref,
            dedupe_key=command.event_key,
            strict_reason=False,
        )
        return await kudos.give(caller, given, options)

    async def revoke_for_reaction(caller: Caller, command: RevokeReactionKudos) -> Reply:
        return await kudos.revoke_source(caller, "reaction", command.message_ref)

    async def stats(caller: Caller, command: ShowStats) -> Reply:
        may_view_others = caller.is_admin or (
            command.user_id is not None and await host.people.leads(caller, command.user_id)
        )
        return await kudos.stats(caller, command.user_id, may_view_others)

    async def show_help(caller: Caller, command: ShowHelp) -> Reply:
        # `/help pulse` is `/pulse help`: each feature owns its help text.
        topic = command.topic.removesuffix("s") if command.topic != "kudos" else "kudos"
        if topic not in {"kudos", "help"} and topic in host.command_words():
            return await host.run_text(caller, f"/{topic} help")
        return help_reply(host.config, command.topic)

    async def give_from_form(
        caller: Caller,
        values: Mapping[str, object],
        _context: Mapping[str, str],
        dedupe_key: str | None,
    ) -> Reply:
        command = command_from_form(values)
        return await kudos.give(caller, command, GiveOptions(source="form", dedupe_key=dedupe_key))

    async def open_form(_caller: Caller, _command: OpenKudosForm) -> Reply:
        return form_reply(host.config.kudos)

    host.register_command(GiveKudos, give, looked_up_first=kudos.looked_up_first)
    host.register_command(OpenKudosForm, open_form)
    host.register_command(UndoKudos, lambda caller, _command: kudos.undo(caller))
    host.register_command(ShowStats, stats)
    host.register_command(ShowTop, lambda caller, command: kudos.top(caller, command.period))
    host.register_command(ShowHelp, show_help)
    # A reaction names one person, its message's author, and is looked up whatever comes.
    host.register_command(
        KudosForReaction, give_for_reaction, looked_up_first=lambda given: (given.author_id,)
    )
    host.register_command(RevokeReactionKudos, revoke_for_reaction)
    host.register_form(KUDOS_FORM, give_from_form)
    host.register_command(KudosSettings, kudos.change_settings)
    host.register_command(SetNotify, kudos.notify)
    return kudos
