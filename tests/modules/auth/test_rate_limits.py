"""Tight limits per account and per address answer 429 with Retry-After; with Redis down, each
process counts on its own.

Every test client comes from one address, and the sign-ups that set a test up count as attempts
too, so each test counts in a fresh cache namespace of its own.
"""

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from aibos.platform.ratelimit import GIVE_BACK_DELAY_SECONDS
from tests.conftest import ClientFactory
from tests.databases import REDIS_URL
from tests.modules.auth.expect import assert_problem, refused_within
from tests.people import PASSWORD, sign_in, sign_up, unique_email

LOGIN = "/api/v1/auth/login"
FORGOT = "/api/v1/auth/password/forgot"
REFRESH = "/api/v1/auth/refresh"


def fresh_counters() -> dict[str, Any]:
    return {"cache_namespace": f"aibos-test-limits-{uuid.uuid4().hex[:8]}"}


def assert_rate_limited(response: httpx.Response, window: int) -> None:
    assert_problem(response, 429, "RATE_LIMITED")
    retry_after = response.headers["retry-after"]
    assert retry_after.isdigit(), retry_after
    assert 1 <= int(retry_after) <= window


async def login(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await client.post(LOGIN, json={"email": email, "password": password})


async def test_logins_to_one_account_are_limited(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    person, other = await sign_up(client), await sign_up(client)
    async with make_client(rate_limit_login_per_account="3/60", **fresh_counters()) as tight:
        for _ in range(3):
            assert (await login(tight, person.email, "Wr0ng-guess")).status_code == 401

        blocked = await login(tight, person.email, PASSWORD)
        others = await login(tight, other.email, PASSWORD)

    assert_rate_limited(blocked, 60)
    assert others.status_code == 200, others.text


async def test_guesses_sent_side_by_side_are_limited_as_one_after_another(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    person = await sign_up(client)
    guesses = [f"Wr0ng-guess-{number}" for number in range(29)] + [PASSWORD]
    async with make_client(rate_limit_login_per_account="3/60", **fresh_counters()) as tight:
        responses = await asyncio.gather(*(login(tight, person.email, g) for g in guesses))

    statuses = [response.status_code for response in responses]
    checked = [status for status in statuses if status in (200, 401)]
    assert len(checked) <= 3, statuses  # the rest were refused before any password was checked
    for response in responses:
        if response.status_code not in (200, 401):
            assert_rate_limited(response, 60)


async def test_right_passwords_give_their_attempt_back(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    person = await sign_up(client)
    async with make_client(rate_limit_login_per_account="2/60", **fresh_counters()) as tight:
        for _ in range(5):
            assert (await login(tight, person.email, PASSWORD)).status_code == 200
        assert (await login(tight, person.email, "Wr0ng-guess")).status_code == 401

        still = await login(tight, person.email, PASSWORD)

    assert still.status_code == 200, still.text


@pytest.mark.skipif(REDIS_URL is None, reason="processes share their counts through Redis")
async def test_an_attempt_given_back_reaches_every_process(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    person = await sign_up(client)
    limits = {"rate_limit_login_per_account": "2/60", **fresh_counters()}
    async with make_client(**limits) as first, make_client(**limits) as second:
        assert (await login(first, person.email, PASSWORD)).status_code == 200
        # Nothing else is counted in `first`, so its attempt goes back on its own, a moment later.
        await asyncio.sleep(GIVE_BACK_DELAY_SECONDS * 2)

        guesses = [await login(second, person.email, "Wr0ng-guess") for _ in range(2)]

    assert [guess.status_code for guess in guesses] == [401, 401]


async def test_guesses_at_the_current_password_count_as_sign_in_attempts(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    person = await sign_up(client)
    change = "/api/v1/auth/password"
    async with make_client(rate_limit_login_per_account="3/60", **fresh_counters()) as tight:
        for number in range(3):
            guess = {"current_password": f"Wr0ng-guess-{number}", "new_password": "N3w-password-x"}
            wrong = await tight.post(change, json=guess, headers=person.headers)
            assert_problem(wrong, 403, "WRONG_PASSWORD")

        right = {"current_password": PASSWORD, "new_password": "N3w-password-x"}
        blocked = await tight.post(change, json=right, headers=person.headers)
        sign_in_blocked = await login(tight, person.email, PASSWORD)

    assert_rate_limited(blocked, 60)
    assert_rate_limited(sign_in_blocked, 60)


async def test_logins_from_one_address_are_limited(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    person = await sign_up(client)
    async with make_client(rate_limit_login_per_address="3/60", **fresh_counters()) as tight:
        for _ in range(3):
            assert (await login(tight, unique_email(), "Wr0ng-guess")).status_code == 401

        blocked = await login(tight, person.email, PASSWORD)

    assert_rate_limited(blocked, 60)


async def test_sign_ups_from_one_address_are_limited(make_client: ClientFactory) -> None:
    email = unique_email()
    async with make_client(rate_limit_register_per_address="2/3600", **fresh_counters()) as tight:
        for _ in range(2):
            created = await tight.post(
                "/api/v1/auth/register", json={"email": unique_email(), "password": PASSWORD}
            )
            assert created.status_code == 202, created.text

        blocked = await tight.post(
            "/api/v1/auth/register", json={"email": email, "password": PASSWORD}
        )
        login_after = await login(tight, email, PASSWORD)

    assert_rate_limited(blocked, 3600)
    assert_problem(login_after, 401, "INVALID_CREDENTIALS")


async def test_refreshes_from_one_address_are_limited(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    person = await sign_up(client)
    token = person.refresh_token
    async with make_client(rate_limit_refresh_per_address="2/60", **fresh_counters()) as tight:
        for _ in range(2):
            response = await tight.post("/api/v1/auth/refresh", json={"refresh_token": token})
            assert response.status_code == 200, response.text
            token = response.json()["refresh_token"]

        blocked = await tight.post("/api/v1/auth/refresh", json={"refresh_token": token})

    assert_rate_limited(blocked, 60)
    # The refused attempt did not spend the token.
    later = await client.post("/api/v1/auth/refresh", json={"refresh_token": token})
    assert later.status_code == 200, later.text


async def test_sign_ups_for_one_email_are_limited(make_client: ClientFactory) -> None:
    email = unique_email()
    body = {"email": email, "password": PASSWORD}
    async with make_client(rate_limit_register_per_account="2/3600", **fresh_counters()) as tight:
        created = await tight.post("/api/v1/auth/register", json=body)
        taken = await tight.post("/api/v1/auth/register", json=body)

        blocked = await tight.post("/api/v1/auth/register", json=body)
        another = await tight.post(
            "/api/v1/auth/register", json={"email": unique_email(), "password": PASSWORD}
        )

    assert created.status_code == 202, created.text
    assert taken.status_code == 202, taken.text
    assert_rate_limited(blocked, 3600)
    assert another.status_code == 202, another.text


async def test_refreshes_of_one_user_are_limited_across_sessions(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    person, other = await sign_up(client), await sign_up(client)
    elsewhere = await sign_in(client, person.email)
    async with make_client(rate_limit_refresh_per_account="2/60", **fresh_counters()) as tight:
        first = await tight.post(REFRESH, json={"refresh_token": person.refresh_token})
        second = await tight.post(REFRESH, json={"refresh_token": elsewhere.refresh_token})
        assert first.status_code == second.status_code == 200, (first.text, second.text)

        blocked = await tight.post(REFRESH, json={"refresh_token": first.json()["refresh_token"]})
        others = await tight.post(REFRESH, json={"refresh_token": other.refresh_token})

    assert_rate_limited(blocked, 60)
    assert others.status_code == 200, others.text
    # The refused attempt did not spend the token.
    later = await client.post(REFRESH, json={"refresh_token": first.json()["refresh_token"]})
    assert later.status_code == 200, later.text


async def test_reset_requests_for_one_account_are_limited(make_client: ClientFactory) -> None:
    email = unique_email()
    async with make_client(rate_limit_reset_per_account="2/3600") as tight:
        for _ in range(2):
            assert (await tight.post(FORGOT, json={"email": email})).status_code == 202

        blocked = await tight.post(FORGOT, json={"email": email})
        another = await tight.post(FORGOT, json={"email": unique_email()})

    assert_rate_limited(blocked, 3600)
    assert another.status_code == 202


async def test_reset_requests_from_one_address_are_limited(make_client: ClientFactory) -> None:
    async with make_client(rate_limit_reset_per_address="2/3600", **fresh_counters()) as tight:
        for _ in range(2):
            assert (await tight.post(FORGOT, json={"email": unique_email()})).status_code == 202

        blocked = await tight.post(FORGOT, json={"email": unique_email()})

    assert_rate_limited(blocked, 3600)


async def test_with_redis_down_sign_in_still_works_and_sign_out_still_takes_effect(
    make_client: ClientFactory,
) -> None:
    dead_redis = "redis://127.0.0.1:1/0"
    async with make_client(redis_url=dead_redis, rate_limit_login_per_account="1/60") as client:
        person = await sign_up(client)  # signs in once: the whole allowance, were it counted
        again = await login(client, person.email, PASSWORD)

        response = await client.post("/api/v1/auth/logout", headers=person.headers)

        assert again.status_code == 200, again.text

        assert response.status_code == 204
        await refused_within(client, person.access_token)


async def test_with_redis_down_each_process_still_limits_logins(make_client: ClientFactory) -> None:
    dead_redis = "redis://127.0.0.1:1/0"
    async with make_client(redis_url=dead_redis, rate_limit_login_per_account="3/60") as client:
        person = await sign_up(client)
        for _ in range(3):
            assert (await login(client, person.email, "Wr0ng-guess")).status_code == 401

        blocked = await login(client, person.email, PASSWORD)

    assert_rate_limited(blocked, 60)
