"""Running work inside a conversation through the Bot Framework connector, and what its
errors mean for delivery (429 → RateLimited, 403/404 → PermanentFailure, else temporary)."""

from __future__ import annotations

import asyncio
import email.utils
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from botbuilder.core import BotAdapter, TurnContext
from botbuilder.schema import ChannelAccount, ConversationParameters, ConversationReference

from bot.host import DeliveryError, PermanentFailure, RateLimited, TemporaryFailure

T = TypeVar("T")

# An answer to a command may wait this long for a 429 to pass; longer waits are not worth it
# while the person looks at their screen (proactive sends wait in the outbox instead).
MAX_INLINE_WAIT = 5.0


async def in_conversation(
    adapter: BotAdapter,
    app_id: str,
    reference: ConversationReference,
    work: Callable[[TurnContext], Awaitable[T]],
) -> T:
    """Run `work` in a turn continued from `reference` and return its result."""
    results: list[T] = []

    async def callback(context: TurnContext) -> None:
        # A continued turn has no channelData; TeamsInfo reads it (team id → conversation id).
        if context.activity.channel_data is None:
            tenant = reference.conversation.tenant_id if reference.conversation else None
            context.activity.channel_data = {"tenant": {"id": tenant}} if tenant else {}
        results.append(await work(context))

    await adapter.continue_conversation(reference, callback, app_id)
    return results[0]


async def create_personal(
    adapter: BotAdapter,
    app_id: str,
    template: ConversationReference,
    user_id: str,
    tenant_id: str,
) -> str:
    """Create the 1:1 chat between the bot and `user_id`; Teams needs the tenant id for it."""
    created: list[str] = []

    async def callback(context: TurnContext) -> None:
        conversation = context.activity.conversation
        assert conversation is not None and conversation.id
        created.append(conversation.id)

    parameters = ConversationParameters(
        is_group=False,
        bot=template.bot,
        members=[ChannelAccount(id=user_id)],
        tenant_id=tenant_id,
        channel_data={"tenant": {"id": tenant_id}},
    )
    await adapter.create_conversation(
        app_id,
        callback,
        parameters,
        channel_id=template.channel_id or "msteams",
        service_url=template.service_url,
    )
    return created[0]


def status_of(error: BaseException) -> int | None:
    response = getattr(error, "response", None)
    for name in ("status_code", "status"):
        value = getattr(response, name, None)
        if isinstance(value, int):
            return value
    return None


def retry_after(error: BaseException) -> float | None:
    """Seconds from a Retry-After header (delta seconds or an HTTP date), if there is one."""
    headers: Any = getattr(getattr(error, "response", None), "headers", None) or {}
    raw = headers.get("Retry-After") if hasattr(headers, "get") else None
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        when = email.utils.parsedate_to_datetime(raw)
        return max(0.0, when.timestamp() - time.time())


def delivery_error(error: BaseException) -> DeliveryError:
    """What the outbox should do about a failed connector call."""
    status = status_of(error)
    detail = f"Teams connector answered {status}: {error}" if status else f"{error!r}"
    if status == 429:
        wait = retry_after(error)
        if wait is None:  # no hint: the outbox backs off exponentially with jitter
            return TemporaryFailure(detail)
        return RateLimited(wait, detail)
    if status in (401, 403, 404, 413):
        return PermanentFailure(detail[:400])
    return TemporaryFailure(detail[:400])


async def with_retry(send: Callable[[], Awaitable[T]]) -> T:
    """Send now; after a 429 with a short Retry-After, wait that long and send once more."""
    try:
        return await send()
    except Exception as error:
        failure = error if isinstance(error, DeliveryError) else delivery_error(error)
        if not isinstance(failure, RateLimited) or failure.retry_after > MAX_INLINE_WAIT:
            raise
        await asyncio.sleep(failure.retry_after)
    return await send()
