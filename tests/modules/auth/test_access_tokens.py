"""Every access token that is not exactly what the server issued is refused with 401."""

import asyncio
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from aibos.platform.app import create_app
from aibos.platform.settings import Settings
from tests.conftest import ClientFactory, SettingsFactory, serve, settings_for_tests
from tests.modules.auth.expect import ME, assert_problem, bearer, status_of_me
from tests.modules.auth.tokens import (
    claims_of,
    hmac_signed,
    public_pem,
    reforged,
    rsa_pem,
    signed_with_secret,
    unsigned,
    without_claim,
    write_key,
)
from tests.people import Person, sign_up

Tamper = Callable[[Settings, Person], str]
REQUIRED_CLAIMS = ["sub", "iss", "aud", "iat", "nbf", "exp", "jti", "type", "sid", "roles"]


def _altered_signature(_settings: Settings, person: Person) -> str:
    head, payload, signature = person.access_token.split(".")
    middle = len(signature) // 2
    flipped = "A" if signature[middle] != "A" else "B"
    return f"{head}.{payload}.{signature[:middle]}{flipped}{signature[middle + 1 :]}"


def _altered_payload(settings: Settings, person: Person) -> str:
    head, _payload, signature = person.access_token.split(".")
    _, payload, _ = reforged(settings, person.access_token, roles=["admin"]).split(".")
    return f"{head}.{payload}.{signature}"


def _empty_signature(_settings: Settings, person: Person) -> str:
    head, payload, _signature = person.access_token.split(".")
    return f"{head}.{payload}."


def _now() -> int:
    return int(time.time())


TAMPERED: dict[str, Tamper] = {
    "alg-none": lambda _s, p: unsigned(claims_of(p.access_token)),
    "alg-None": lambda _s, p: unsigned(claims_of(p.access_token), alg="None"),
    "alg-NONE": lambda _s, p: unsigned(claims_of(p.access_token), alg="NONE"),
    "empty-signature": _empty_signature,
    "altered-signature": _altered_signature,
    "altered-payload": _altered_payload,
    "not-a-jwt": lambda _s, _p: "not-a-jwt",
    "expired": lambda s, p: reforged(s, p.access_token, exp=_now() - 60),
    "not-yet-valid": lambda s, p: reforged(s, p.access_token, nbf=_now() + 600),
    "exp-as-a-string": lambda s, p: reforged(s, p.access_token, exp="9999999999"),
    "nbf-as-a-string": lambda s, p: reforged(s, p.access_token, nbf=str(_now() - 60)),
    "iat-as-a-string": lambda s, p: reforged(s, p.access_token, iat=str(_now() - 60)),
    "exp-as-a-boolean": lambda s, p: reforged(s, p.access_token, exp=True),
    "wrong-audience": lambda s, p: reforged(s, p.access_token, aud="someone-else"),
    "wrong-issuer": lambda s, p: reforged(s, p.access_token, iss="evil"),
    "refresh-type": lambda s, p: reforged(s, p.access_token, type="refresh"),
    "roles-not-a-list": lambda s, p: reforged(s, p.access_token, roles="admin"),
    "someone-elses-subject": lambda s, p: reforged(s, p.access_token, sub=str(uuid.uuid4())),
    "unknown-session": lambda s, p: reforged(s, p.access_token, sid=str(uuid.uuid4())),
    "unknown-kid": lambda s, p: signed_with_secret(s, claims_of(p.access_token), kid="other"),
    "wrong-secret": lambda _s, p: signed_with_secret(
        Settings(_env_file=None, secret_key="another-secret-of-at-least-32-chars!"),
        claims_of(p.access_token),
    ),
    "refresh-token": lambda _s, p: p.refresh_token,
}


@pytest.fixture(scope="module")
async def member(database_url: str, cache_namespace: str) -> Person:
    """One person for the whole battery (nothing here changes their state), signed up once."""
    async with serve(create_app(settings_for_tests(database_url, cache_namespace))) as client:
        return await sign_up(client)


async def test_a_request_without_a_token_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.get(ME)

    assert_problem(response, 401, "NOT_AUTHENTICATED")
    assert response.headers["www-authenticate"] == "Bearer"


async def test_a_token_forged_with_the_real_secret_and_claims_is_accepted(
    client: httpx.AsyncClient, make_settings: SettingsFactory, member: Person
) -> None:
    """The control for the battery below: the forging itself is faithful."""
    token = reforged(make_settings(), member.access_token, jti=uuid.uuid4().hex)

    assert token != member.access_token
    assert await status_of_me(client, token) == 200


@pytest.mark.parametrize("name", list(TAMPERED))
async def test_a_tampered_token_is_refused(
    client: httpx.AsyncClient, make_settings: SettingsFactory, member: Person, name: str
) -> None:
    token = TAMPERED[name](make_settings(), member)

    response = await client.get(ME, headers=bearer(token))

    assert_problem(response, 401, "INVALID_TOKEN")
    assert await status_of_me(client, member.access_token) == 200


async def test_a_token_accepted_before_is_refused_once_it_expires(
    client: httpx.AsyncClient, make_settings: SettingsFactory, member: Person
) -> None:
    expires_at = _now() + 2
    token = reforged(make_settings(), member.access_token, jti=uuid.uuid4().hex, exp=expires_at)
    assert await status_of_me(client, token) == 200

    await asyncio.sleep(expires_at - time.time() + 0.05)

    response = await client.get(ME, headers=bearer(token))
    assert_problem(response, 401, "INVALID_TOKEN")


@pytest.mark.parametrize("claim", REQUIRED_CLAIMS)
async def test_a_token_missing_a_required_claim_is_refused(
    client: httpx.AsyncClient, make_settings: SettingsFactory, member: Person, claim: str
) -> None:
    token = without_claim(make_settings(), member.access_token, claim)

    response = await client.get(ME, headers=bearer(token))

    assert_problem(response, 401, "INVALID_TOKEN")
    assert await status_of_me(client, member.access_token) == 200


async def test_an_hs256_token_keyed_with_the_public_rsa_key_is_refused(
    make_client: ClientFactory, tmp_path: Path
) -> None:
    private = rsa_pem()
    write_key(tmp_path, "rsa-2026", private)
    async with make_client(jwt_keys_dir=tmp_path) as client:
        person = await sign_up(client)
        forged = hmac_signed(claims_of(person.access_token), public_pem(private), kid="rsa-2026")

        response = await client.get(ME, headers=bearer(forged))

        assert_problem(response, 401, "INVALID_TOKEN")
        assert await status_of_me(client, person.access_token) == 200
