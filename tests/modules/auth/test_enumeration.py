"""A stranger cannot tell from the login answer whether an email has an account."""

import statistics
import time
from typing import Any

import httpx

from tests.people import sign_up, unique_email

LOGIN = "/api/v1/auth/login"
ROUNDS = 5


def comparable(response: httpx.Response) -> tuple[int, str | None, dict[str, Any]]:
    """Status, challenge and body, without what differs on every request."""
    body = {
        key: value
        for key, value in response.json().items()
        if key not in {"request_id", "instance"}
    }
    return response.status_code, response.headers.get("www-authenticate"), body


async def test_an_unknown_email_and_a_wrong_password_get_the_same_answer(
    client: httpx.AsyncClient,
) -> None:
    person = await sign_up(client)

    unknown = await client.post(
        LOGIN, json={"email": unique_email("nobody"), "password": "Wr0ng-one"}
    )
    wrong = await client.post(LOGIN, json={"email": person.email, "password": "Wr0ng-one"})

    assert comparable(unknown) == comparable(wrong)
    assert unknown.status_code == 401
    assert unknown.json()["error_code"] == "INVALID_CREDENTIALS"


async def test_an_unknown_email_is_not_answered_much_faster_than_a_wrong_password(
    client: httpx.AsyncClient,
) -> None:
    person = await sign_up(client)
    nobody = unique_email("nobody")

    async def timed(email: str) -> float:
        start = time.perf_counter()
        response = await client.post(LOGIN, json={"email": email, "password": "Wr0ng-one"})
        assert response.status_code == 401
        return time.perf_counter() - start

    await timed(nobody)  # warm-up: the first unknown email also prepares the decoy hash
    unknown, wrong = [], []
    for _ in range(ROUNDS):
        unknown.append(await timed(nobody))
        wrong.append(await timed(person.email))

    fast, slow = statistics.median(unknown), statistics.median(wrong)
    assert fast > 0.4 * slow, (
        f"unknown email {fast * 1000:.1f} ms, wrong password {slow * 1000:.1f} ms"
    )
    assert slow > 0.4 * fast, (
        f"unknown email {fast * 1000:.1f} ms, wrong password {slow * 1000:.1f} ms"
    )
