"""Requests in progress at once: writes always go ahead; reads take the room writes leave."""

from __future__ import annotations

import asyncio
import weakref
from collections import deque

from starlette.types import ASGIApp, Receive, Scope, Send

_READS = frozenset({"GET", "HEAD", "OPTIONS"})


class Gate:
    """At most `limit` requests in progress, counting writes; writes never wait here, and at
    least one read in `floor` of the limit is always let in, so reads never stop altogether."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._floor = max(1, limit // 8)
        self._reads = 0
        self._writes = 0
        self._waiting: deque[asyncio.Future[None]] = deque()

    def _room(self) -> bool:
        return self._reads < max(self._floor, self._limit - self._writes)

    async def enter_read(self) -> None:
        if not self._waiting and self._room():
            self._reads += 1
            return
        turn = asyncio.get_running_loop().create_future()
        self._waiting.append(turn)
        try:
            await turn  # the one who lets it in counts it
        except asyncio.CancelledError:
            if not turn.cancelled():
                self.leave_read()  # let in just before the cancel reached it
            elif turn in self._waiting:
                self._waiting.remove(turn)
            raise

    def leave_read(self) -> None:
        self._reads -= 1
        self._let_in()

    def enter_write(self) -> None:
        self._writes += 1

    def leave_write(self) -> None:
        self._writes -= 1
        self._let_in()

    def _let_in(self) -> None:
        while self._waiting and self._room():
            turn = self._waiting.popleft()
            if turn.done():  # cancelled while waiting; its task has not run since
                continue
            self._reads += 1
            turn.set_result(None)


class AdmissionMiddleware:
    """Reads beyond the room writes leave wait their turn, in order, before any work is done.

    Every request in progress is a task the event loop runs a step of on each turn: with
    hundreds of reads in flight a turn takes long, and a posting waits a turn for each of its
    round trips while its transaction holds locks others need. Reads that wait here cost the
    loop nothing, so under any number of readers the turns stay short and writes go first."""

    def __init__(self, app: ASGIApp, *, limit: int, ungated: tuple[str, ...] = ()) -> None:
        self.app = app
        self._limit = limit
        self._ungated = ungated  # path prefixes that never wait: probes an orchestrator times
        self._gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Gate] = (
            weakref.WeakKeyDictionary()
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self._ungated):
            await self.app(scope, receive, send)
            return
        gate = self._gate()
        if scope["method"] in _READS:
            await gate.enter_read()
            try:
                await self.app(scope, receive, send)
            finally:
                gate.leave_read()
            return
        gate.enter_write()
        try:
            await self.app(scope, receive, send)
        finally:
            gate.leave_write()

    def _gate(self) -> Gate:
        loop = asyncio.get_running_loop()
        gate = self._gates.get(loop)
        if gate is None:  # a future belongs to one event loop
            gate = self._gates[loop] = Gate(self._limit)
        return gate
