"""`aibos create-admin`: the first administrator of a new installation."""

import asyncio
from collections.abc import AsyncIterator

import pytest
from click.testing import CliRunner

from aibos.cli import main
from tests.conftest import ClientFactory
from tests.databases import create_empty_database, drop_database
from tests.people import PASSWORD, sign_in, unique_email


@pytest.fixture
async def empty_database_url() -> AsyncIterator[str]:
    url = await create_empty_database()
    yield url
    await drop_database(url)


async def create_admin(
    database_url: str, *args: str, prompted: str | None = None
) -> tuple[int, str]:
    """Run the command as an operator would; it runs its own event loop, so in a thread."""
    env = {"AIBOS_ENV": "test", "AIBOS_DATABASE_URL": database_url, "AIBOS_ADMIN_PASSWORD": None}
    result = await asyncio.to_thread(
        CliRunner().invoke, main, ["create-admin", *args], input=prompted, env=env
    )
    return result.exit_code, result.output


async def test_creates_an_administrator_who_signs_in_and_lists_users(
    empty_database_url: str, make_client: ClientFactory
) -> None:
    email = unique_email("Boss")

    code, output = await create_admin(
        empty_database_url, "--email", email, "--password", PASSWORD, "--full-name", "The Boss"
    )

    assert code == 0, output
    assert f"Created {email.lower()} an active administrator." in output
    async with make_client(database_url=empty_database_url) as client:
        boss = await sign_in(client, email.lower())
        me = (await client.get("/api/v1/users/me", headers=boss.headers)).json()
        listed = await client.get("/api/v1/users", headers=boss.headers)
    assert me["roles"] == ["admin"]
    assert me["full_name"] == "The Boss"
    assert me["is_active"] is True
    assert me["email_verified"] is True
    assert listed.status_code == 200
    assert [user["email"] for user in listed.json()["data"]] == [email.lower()]


async def test_asks_for_the_email_and_the_password_twice_when_not_given(
    empty_database_url: str, make_client: ClientFactory
) -> None:
    email = unique_email("prompted")

    code, output = await create_admin(
        empty_database_url, prompted=f"{email}\n{PASSWORD}\n{PASSWORD}\n"
    )

    assert code == 0, output
    assert "Email:" in output
    assert "Repeat for confirmation:" in output
    assert PASSWORD not in output
    async with make_client(database_url=empty_database_url) as client:
        await sign_in(client, email)


async def test_running_it_again_makes_the_same_person_admin_without_a_second_account(
    empty_database_url: str, make_client: ClientFactory
) -> None:
    email = unique_email("again")
    flags = ("--email", email, "--password", PASSWORD)
    await create_admin(empty_database_url, *flags)

    code, output = await create_admin(empty_database_url, *flags)

    assert code == 0, output
    assert f"Made {email} an active administrator." in output
    async with make_client(database_url=empty_database_url) as client:
        boss = await sign_in(client, email)
        listed = (await client.get("/api/v1/users", headers=boss.headers)).json()
    assert listed["count"] == 1


async def test_a_weak_password_is_refused_and_nobody_is_created(
    empty_database_url: str, make_client: ClientFactory
) -> None:
    email = unique_email("weak")

    code, output = await create_admin(empty_database_url, "--email", email, "--password", "short1")

    assert code != 0
    assert "Use at least 8 characters." in output
    async with make_client(database_url=empty_database_url) as client:
        response = await client.post(
            "/api/v1/auth/login", json={"email": email, "password": "short1"}
        )
    assert response.status_code == 401


async def test_a_common_password_is_refused(empty_database_url: str) -> None:
    code, output = await create_admin(
        empty_database_url, "--email", unique_email("common"), "--password", "password1"
    )

    assert code != 0
    assert "too common" in output


async def test_an_invalid_email_is_refused_and_nobody_is_created(
    empty_database_url: str, make_client: ClientFactory
) -> None:
    code, output = await create_admin(
        empty_database_url, "--email", " not an email ", "--password", PASSWORD
    )

    assert code == 2
    assert "Invalid value for '--email'" in output
    email = unique_email("valid")
    await create_admin(empty_database_url, "--email", email, "--password", PASSWORD)
    async with make_client(database_url=empty_database_url) as client:
        boss = await sign_in(client, email)
        listed = (await client.get("/api/v1/users", headers=boss.headers)).json()
    assert [user["email"] for user in listed["data"]] == [email]


async def test_an_existing_account_is_made_admin_without_being_asked_for_a_password(
    empty_database_url: str, make_client: ClientFactory
) -> None:
    email = unique_email("existing")
    await create_admin(empty_database_url, "--email", email, "--password", PASSWORD)

    code, output = await create_admin(empty_database_url, "--email", email, prompted="")

    assert code == 0, output
    assert "Password" not in output
    assert f"Made {email} an active administrator." in output
    async with make_client(database_url=empty_database_url) as client:
        await sign_in(client, email)


async def test_the_password_may_come_from_aibos_admin_password(
    empty_database_url: str, make_client: ClientFactory
) -> None:
    email = unique_email("from-env")
    env = {"AIBOS_ENV": "test", "AIBOS_DATABASE_URL": empty_database_url}
    result = await asyncio.to_thread(
        CliRunner().invoke,
        main,
        ["create-admin", "--email", email],
        env={**env, "AIBOS_ADMIN_PASSWORD": PASSWORD},
    )

    assert result.exit_code == 0, result.output
    assert "Password" not in result.output
    async with make_client(database_url=empty_database_url) as client:
        await sign_in(client, email)


def test_the_help_names_the_environment_variables_it_reads() -> None:
    result = CliRunner().invoke(main, ["create-admin", "--help"])

    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert "AIBOS_ADMIN_PASSWORD" in text
    assert "AIBOS_DATABASE_URL" in text
    assert "new account only" in text
