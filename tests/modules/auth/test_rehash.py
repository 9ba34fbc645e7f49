import uuid

from fastapi import FastAPI

from aibos.modules.auth import repository
from aibos.platform.app import create_app
from tests.conftest import SettingsFactory, serve
from tests.people import sign_in, sign_up


async def stored_hash(app: FastAPI, user_id: uuid.UUID) -> str:
    """The password hash as kept: the only place a rehash shows (argon2 checks any parameters)."""
    async with app.state.container.engine().connect() as connection:
        value = await repository.password_hash(connection, user_id)
    assert value is not None
    return value


async def test_a_password_hashed_with_other_parameters_still_signs_in_and_is_rehashed(
    make_settings: SettingsFactory,
) -> None:
    stronger = create_app(make_settings(argon2_time_cost=3))
    async with serve(stronger) as client:
        person = await sign_up(client)
        assert ",t=3," in await stored_hash(stronger, person.id)

    default = create_app(make_settings())
    async with serve(default) as client:
        await sign_in(client, person.email)
        assert ",t=2," in await stored_hash(default, person.id)
        await sign_in(client, person.email)

    stronger_again = create_app(make_settings(argon2_time_cost=3))
    async with serve(stronger_again) as client:
        await sign_in(client, person.email)
        assert ",t=3," in await stored_hash(stronger_again, person.id)
