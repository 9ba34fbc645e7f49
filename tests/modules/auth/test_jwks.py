"""The published keys, and rotating the signing key without signing anyone out."""

from pathlib import Path

import httpx
import jwt
import pytest

from tests.conftest import ClientFactory
from tests.modules.auth.expect import status_of_me
from tests.modules.auth.tokens import KEY_MAKERS, header_of, public_pem, write_key
from tests.people import sign_in, sign_up

JWKS = "/.well-known/jwks.json"


async def test_no_key_is_published_while_tokens_use_the_shared_secret(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(JWKS)

    assert response.status_code == 200
    assert response.json() == {"keys": []}


@pytest.mark.parametrize("algorithm", list(KEY_MAKERS))
async def test_the_published_key_verifies_the_servers_tokens(
    make_client: ClientFactory, tmp_path: Path, algorithm: str
) -> None:
    write_key(tmp_path, "k1", KEY_MAKERS[algorithm]())
    async with make_client(jwt_keys_dir=tmp_path) as client:
        person = await sign_up(client)
        keys = (await client.get(JWKS)).json()["keys"]

    assert [(key["kid"], key["alg"], key["use"]) for key in keys] == [("k1", algorithm, "sig")]
    assert "d" not in keys[0]  # never the private part
    assert header_of(person.access_token) == {"alg": algorithm, "kid": "k1", "typ": "JWT"}
    claims = jwt.decode(
        person.access_token,
        jwt.PyJWK(keys[0]).key,
        algorithms=[algorithm],
        audience="aibos-api",
        issuer="aibos",
    )
    assert claims["sub"] == str(person.id)


@pytest.mark.parametrize("algorithm", list(KEY_MAKERS))
async def test_tokens_signed_before_a_rotation_work_until_their_key_is_removed(
    make_client: ClientFactory, tmp_path: Path, algorithm: str
) -> None:
    make_key = KEY_MAKERS[algorithm]
    old_key = write_key(tmp_path, "a", make_key())
    async with make_client(jwt_keys_dir=tmp_path) as client:
        before = await sign_up(client)
    assert header_of(before.access_token)["kid"] == "a"

    write_key(tmp_path, "b", make_key())
    async with make_client(jwt_keys_dir=tmp_path, jwt_active_key_id="b") as client:
        assert await status_of_me(client, before.access_token) == 200
        after = await sign_in(client, before.email)
        keys = (await client.get(JWKS)).json()["keys"]
    assert header_of(after.access_token)["kid"] == "b"
    assert sorted((key["kid"], key["alg"], key["use"]) for key in keys) == [
        ("a", algorithm, "sig"),
        ("b", algorithm, "sig"),
    ]

    old_key.unlink()
    async with make_client(jwt_keys_dir=tmp_path, jwt_active_key_id="b") as client:
        assert await status_of_me(client, before.access_token) == 401
        assert await status_of_me(client, after.access_token) == 200
        assert [key["kid"] for key in (await client.get(JWKS)).json()["keys"]] == ["b"]


async def test_a_public_key_alone_verifies_but_does_not_sign(
    make_client: ClientFactory, tmp_path: Path
) -> None:
    old = KEY_MAKERS["RS256"]()
    write_key(tmp_path, "a", old)
    async with make_client(jwt_keys_dir=tmp_path) as client:
        before = await sign_up(client)

    write_key(tmp_path, "a", public_pem(old))
    write_key(tmp_path, "0-new", KEY_MAKERS["RS256"]())
    async with make_client(jwt_keys_dir=tmp_path) as client:
        assert await status_of_me(client, before.access_token) == 200
        after = await sign_in(client, before.email)

    assert header_of(after.access_token)["kid"] == "0-new"
