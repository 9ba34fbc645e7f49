"""SIGTERM stops a real server gracefully: every request sent before it gets its whole answer."""

from __future__ import annotations

import asyncio
import signal
import time
from dataclasses import dataclass

import httpx
import pytest

from tests.databases import REDIS_URL
from tests.servers import Server, aibos_server

GRACE_SECONDS = 15
CLIENTS = 24
GENEROUS = "1000000/60"


@dataclass(frozen=True)
class Outcome:
    sent_at: float
    status: int | None
    error: str | None = None


async def _keep_asking(client: httpx.AsyncClient, number: int, outcomes: list[Outcome]) -> None:
    """One client, sending one request after another until nobody listens any more."""
    for turn in range(10**9):
        sent_at = time.monotonic()
        try:
            if (turn + number) % 4 == 0:  # a login hashes a password: a request that takes a while
                response = await client.post(
                    "/api/v1/auth/login",
                    json={"email": f"nobody-{number}@example.com", "password": "wrong-1234"},
                )
            else:
                response = await client.get("/api/v1/health/ready")
            outcomes.append(Outcome(sent_at, response.status_code))
        except httpx.ConnectError:
            return  # nobody listens any more: the server stopped accepting
        except httpx.TransportError as error:
            outcomes.append(Outcome(sent_at, None, repr(error)))


async def _signal_under_load(server: Server) -> tuple[float, float, list[Outcome]]:
    outcomes: list[Outcome] = []
    keep_alive = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
    fresh = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=0)
    async with (
        httpx.AsyncClient(base_url=server.base_url, limits=keep_alive, timeout=30) as client,
        httpx.AsyncClient(base_url=server.base_url, limits=fresh, timeout=30) as connecting,
    ):
        clients = [
            asyncio.create_task(_keep_asking(each, n, outcomes))
            for n in range(CLIENTS)
            for each in (client, connecting)
        ]
        await asyncio.sleep(2)
        # The server is busy for a moment (frozen, here) while requests keep coming: they wait in
        # its listen backlog and in its connections, unread, when the signal arrives.
        server.signal_all(signal.SIGSTOP)
        await asyncio.sleep(0.5)
        signalled_at = time.monotonic()
        server.signal_all(signal.SIGTERM)
        server.signal_all(signal.SIGCONT)
        await asyncio.to_thread(server.process.wait, GRACE_SECONDS + 20)
        exited_after = time.monotonic() - signalled_at
        await asyncio.wait_for(asyncio.gather(*clients), timeout=30)
    return signalled_at, exited_after, outcomes


@pytest.mark.parametrize(
    "workers",
    [
        1,
        pytest.param(
            2,
            marks=pytest.mark.skipif(REDIS_URL is None, reason="workers need AIBOS_REDIS_URL"),
        ),
    ],
)
async def test_sigterm_answers_every_request_sent_before_it(
    database_url: str, cache_namespace: str, workers: int
) -> None:
    with aibos_server(
        database_url,
        cache_namespace,
        workers=workers,
        shutdown_grace_seconds=str(GRACE_SECONDS),
        rate_limit_login_per_account=GENEROUS,
        rate_limit_login_per_address=GENEROUS,
    ) as server:
        signalled_at, exited_after, outcomes = await _signal_under_load(server)

    before = [outcome for outcome in outcomes if outcome.sent_at < signalled_at]
    unanswered = [outcome for outcome in before if outcome.status is None]
    assert len(before) >= CLIENTS
    assert unanswered == [], f"{len(unanswered)} of {len(before)}: {unanswered[:3]}"
    assert exited_after < GRACE_SECONDS
