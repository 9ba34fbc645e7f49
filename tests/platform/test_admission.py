"""Reads take only the room writes leave among the requests in progress; writes never wait."""

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from aibos.platform.admission import Gate
from aibos.platform.app import create_app
from tests.conftest import SettingsFactory, serve
from tests.platform.probes import Held, with_probes

LIMIT = 8  # at least one read in eight goes in whatever the writes


@pytest.fixture
async def app(make_settings: SettingsFactory) -> FastAPI:
    return with_probes(create_app(make_settings(requests_in_progress=LIMIT)))


@pytest.fixture
async def probe_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(app) as client:
        yield client


async def until(condition: object, held: Held) -> None:
    for _ in range(500):
        if callable(condition) and condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never happened; {held.inside} inside")


async def test_reads_beyond_the_limit_wait_and_then_all_answer(
    app: FastAPI, probe_client: httpx.AsyncClient
) -> None:
    held: Held = app.state.held
    reads = [asyncio.create_task(probe_client.get("/probe/held")) for _ in range(3 * LIMIT)]
    await until(lambda: held.inside == LIMIT, held)
    await asyncio.sleep(0.1)  # more would have gone in by now
    assert held.most_inside == LIMIT
    held.release.set()
    answers = await asyncio.gather(*reads)
    assert [answer.status_code for answer in answers] == [200] * 3 * LIMIT


async def test_writes_go_ahead_of_waiting_reads_and_reads_take_the_room_left(
    app: FastAPI, probe_client: httpx.AsyncClient
) -> None:
    held: Held = app.state.held
    reads = [asyncio.create_task(probe_client.get("/probe/held")) for _ in range(2 * LIMIT)]
    await until(lambda: held.inside == LIMIT, held)
    writes = [asyncio.create_task(probe_client.post("/probe/held")) for _ in range(3 * LIMIT)]
    await until(lambda: held.inside == 4 * LIMIT, held)  # every write went in past the reads
    held.release.set()
    answers = await asyncio.gather(*reads, *writes)
    assert [answer.status_code for answer in answers] == [200] * 5 * LIMIT

    # With the writes in progress, only the floor of one read goes in beside them.
    held.release.clear()
    held.most_inside = 0
    writes = [asyncio.create_task(probe_client.post("/probe/held")) for _ in range(LIMIT)]
    await until(lambda: held.inside == LIMIT, held)
    reads = [asyncio.create_task(probe_client.get("/probe/held")) for _ in range(LIMIT)]
    await until(lambda: held.inside == LIMIT + 1, held)
    await asyncio.sleep(0.1)
    assert held.inside == LIMIT + 1
    held.release.set()
    answers = await asyncio.gather(*writes, *reads)
    assert [answer.status_code for answer in answers] == [200] * 2 * LIMIT


async def test_a_read_given_up_while_waiting_frees_nothing_it_did_not_take(
    app: FastAPI, probe_client: httpx.AsyncClient
) -> None:
    held: Held = app.state.held
    reads = [asyncio.create_task(probe_client.get("/probe/held")) for _ in range(LIMIT + 2)]
    await until(lambda: held.inside == LIMIT, held)
    reads[-1].cancel()  # a client that gives up while its read waits for room
    await asyncio.sleep(0.05)
    held.release.set()
    answers = await asyncio.gather(*reads[:-1])
    assert [answer.status_code for answer in answers] == [200] * (LIMIT + 1)
    held.release.clear()
    more = [asyncio.create_task(probe_client.get("/probe/held")) for _ in range(2 * LIMIT)]
    await until(lambda: held.inside == LIMIT, held)
    await asyncio.sleep(0.1)
    assert held.inside == LIMIT
    held.release.set()
    assert all(answer.status_code == 200 for answer in await asyncio.gather(*more))


async def test_health_and_metrics_answer_while_reads_wait(
    app: FastAPI, probe_client: httpx.AsyncClient
) -> None:
    held: Held = app.state.held
    reads = [asyncio.create_task(probe_client.get("/probe/held")) for _ in range(2 * LIMIT)]
    await until(lambda: held.inside == LIMIT, held)

    live, ready, metrics = await asyncio.wait_for(
        asyncio.gather(
            probe_client.get("/api/v1/health"),
            probe_client.get("/api/v1/health/ready"),
            probe_client.get("/metrics"),
        ),
        timeout=5,
    )

    assert (live.status_code, ready.status_code, metrics.status_code) == (200, 200, 200)
    held.release.set()
    await asyncio.gather(*reads)


async def test_a_read_cancelled_as_it_is_let_in_loses_no_room() -> None:
    gate = Gate(1)
    await gate.enter_read()
    waiting = asyncio.create_task(gate.enter_read())
    await asyncio.sleep(0)  # it waits its turn
    waiting.cancel()
    gate.leave_read()  # in the same turn: the room must not go to the cancelled read

    with pytest.raises(asyncio.CancelledError):
        await waiting
    await asyncio.wait_for(gate.enter_read(), timeout=1)  # the room is free again
