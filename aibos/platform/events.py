"""In-process domain events, handled inside the publisher's unit of work (before commit)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

Event = TypeVar("Event")
Handler = Callable[[Any, AsyncSession], Awaitable[None]]


class EventBus:
    def __init__(self) -> None:
        self._handlers: defaultdict[type, list[Handler]] = defaultdict(list)

    def subscribe(
        self, event_type: type[Event], handler: Callable[[Event, AsyncSession], Awaitable[None]]
    ) -> None:
        self._handlers[event_type].append(handler)

    async def publish(self, session: AsyncSession, event: object) -> None:
        """Run every handler in the same transaction: if one fails, nothing is committed."""
        for handler in self._handlers[type(event)]:
            await handler(event, session)
