"""People for tests: accounts signed in through the API, with the roles a test needs."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx
from fastapi import FastAPI

from aibos.platform.mail import Mail, OutboxMailer

PASSWORD = "Tr0ub4dor-and-3"


@dataclass
class Person:
    id: uuid.UUID
    email: str
    password: str
    access_token: str
    refresh_token: str
    session_id: uuid.UUID

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@example.com"


async def sign_in(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> Person:
    response = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    tokens = response.json()
    me = await client.get(
        "/api/v1/users/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert me.status_code == 200, me.text
    return Person(
        id=uuid.UUID(me.json()["id"]),
        email=email,
        password=password,
        access_token=tokens["access_token"],
        refresh_token=tokens["refresh_token"],
        session_id=uuid.UUID(tokens["session_id"]),
    )


async def sign_up(
    client: httpx.AsyncClient, email: str | None = None, password: str = PASSWORD
) -> Person:
    """A new member, registered and signed in through the API."""
    email = email or unique_email()
    response = await client.post(
        "/api/v1/auth/register", json={"email": email, "password": password, "full_name": "Test"}
    )
    assert response.status_code == 202, response.text
    return await sign_in(client, email, password)


async def admin(app: FastAPI, client: httpx.AsyncClient) -> Person:
    """A new active administrator (made as `aibos create-admin` does), signed in."""
    email = unique_email("admin")
    service = app.state.container.auth.service()
    await service.create_admin(email=email, password=PASSWORD, full_name="Admin")
    return await sign_in(client, email)


async def with_roles(
    app: FastAPI, client: httpx.AsyncClient, *roles: str, by: Person | None = None
) -> Person:
    """A new user holding exactly these roles, signed in with them."""
    person = await sign_up(client)
    by = by or await admin(app, client)
    response = await client.put(
        f"/api/v1/users/{person.id}/roles", json={"roles": list(roles)}, headers=by.headers
    )
    assert response.status_code == 200, response.text
    return await sign_in(client, person.email, person.password)


def outbox(app: FastAPI) -> list[Mail]:
    mailer = app.state.container.mailer()
    assert isinstance(mailer, OutboxMailer)
    return mailer.outbox


async def mail_to(app: FastAPI, email: str, subject_word: str) -> Mail:
    """The latest mail to this address about `subject_word`; mail leaves in the background."""
    import asyncio

    for _ in range(100):
        found = [m for m in outbox(app) if m.to == email and subject_word in m.subject]
        if found:
            return found[-1]
        await asyncio.sleep(0.01)
    raise AssertionError(f"no mail to {email} about {subject_word!r}")


def token_in(mail: Mail) -> str:
    return mail.body.rsplit("Token: ", 1)[1].strip()
