"""uvicorn, stopped gracefully: what reached the server before SIGTERM is answered, not reset."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys

from uvicorn import Config, Server
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import multiprocess

# Loop turns given, at shutdown, to what already reached us: one turn accepts the connections
# waiting in the listen backlog, the next reads what they and idle keep-alive connections sent.
_SETTLE_TURNS = 5
_SETTLE_TURN_SECONDS = 0.01


class GracefulServer(Server):
    """uvicorn's Server, which on SIGTERM first takes in every request already sent.

    uvicorn closes the listening socket and every idle connection as soon as it notices the signal.
    When the loop was busy just before (a burst, a slow request, a paused container), connections
    still in the backlog and requests not yet read are then reset: the kernel answers a close with
    unread data with RST. Letting the loop turn a few times first makes them requests in flight,
    which uvicorn answers (with `Connection: close`) before it exits.
    """

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for _ in range(_SETTLE_TURNS):
            await asyncio.sleep(_SETTLE_TURN_SECONDS)
        await super().shutdown(sockets)


class _Worker(multiprocess.Process):
    @property
    def server(self) -> Server:
        if self._server is None:
            self._server = GracefulServer(config=self.config)
        return self._server


class _Supervisor(multiprocess.Multiprocess):
    """uvicorn's worker supervisor, which lets go of the listening socket before it stops them.

    Otherwise the supervisor's copy keeps the socket open after the workers closed theirs, and the
    kernel queues new connections that nobody will accept, then resets them when it exits.
    """

    def terminate_all(self) -> None:
        for listener in self.sockets:
            listener.close()
        super().terminate_all()


def run(config: Config) -> None:
    """Serve until SIGTERM or SIGINT, with `config.workers` processes."""
    if config.workers > 1:
        multiprocess.Process = _Worker  # type: ignore[misc]  # the supervisor makes workers by this name
        with contextlib.suppress(KeyboardInterrupt):
            _Supervisor(config, sockets=[config.bind_socket()]).run()
        return
    server = GracefulServer(config=config)
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    if not server.started:
        sys.exit(STARTUP_FAILURE)
