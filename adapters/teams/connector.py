"""Running work inside a conversation through the Bot Framework connector, and what its
errors mean for delivery (429 → RateLimited, 403/404 → PermanentFailure, else temporary)."""

from __future__ import annotations

import asyncio
import email.utils
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import requests
from botbuilder.core import BotAdapter, TurnContext
from botbuilder.schema import ChannelAccount, ConversationParameters, ConversationReference

from bot.host import (
    DeliveryError,
    OutcomeUnknown,
    PermanentFailure,
    RateLimited,
    TemporaryFailure,
)

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


def delivery_error(error: BaseException, *, posting: bool = False) -> DeliveryError:
    """What the outbox should do about a failed connector call. `posting`: the call posts a
    new activity, so a 5xx, a timeout or a dropped connection after the request went out
    leaves its outcome unknown — Teams may have delivered it."""
    status = status_of(error)
    detail = f"Teams connector answered {status}: {error}" if status else f"{error!r}"
    if status == 429:
        wait = retry_after(error)
        if wait is None:  # no hint: the outbox backs off exponentially with jitter
            return TemporaryFailure(detail)
        return RateLimited(wait, detail)
    if status in (401, 403, 404, 413):
        return PermanentFailure(detail[:400])
    if posting and ((status is None and _after_sending(error)) or (status or 0) >= 500):
        return OutcomeUnknown(detail[:400])
    return TemporaryFailure(detail[:400])


def _after_sending(error: BaseException) -> bool:
    """Whether a call that got no answer may have been received: anything but a failure to
    connect (msrest wraps the `requests` exception it caught; look along the chain)."""
    seen: BaseException | None = error
    chain: list[BaseException] = []
    while seen is not None and len(chain) < 8:
        chain.append(seen)
        inner = getattr(seen, "inner_exception", None)
        seen = inner if isinstance(inner, BaseException) else seen.__cause__ or seen.__context__
    if any(isinstance(link, requests.ConnectTimeout | ConnectionRefusedError) for link in chain):
        return False
    if any(_refused(link) for link in chain):
        return False
    transport = (requests.RequestException, TimeoutError, ConnectionError)
    return any(isinstance(link, transport) for link in chain)


def _refused(error: BaseException) -> bool:
    # requests' ConnectionError around urllib3's NewConnectionError: it never connected.
    reason = getattr(error.args[0], "reason", None) if error.args else None
    return type(reason).__name__ in {"NewConnectionError", "NameResolutionError"}


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
