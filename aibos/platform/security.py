"""The security contract every module codes against: who is calling and what they may do.

How a bearer token becomes a Principal is the auth module's business; the composition root
hands its Authenticator to the app. Routes ask for permissions, never role names.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Protocol

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from aibos.platform.errors import NotAuthenticated, PermissionDenied

EVERYTHING = "*"


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: uuid.UUID
    session_id: uuid.UUID
    roles: frozenset[str]
    permissions: frozenset[str]

    def can(self, permission: str) -> bool:
        return EVERYTHING in self.permissions or permission in self.permissions


class Authenticator(Protocol):
    async def authenticate(self, token: str) -> Principal:
        """The caller behind a bearer access token; raises NotAuthenticated."""
        ...


class PermissionRequired(PermissionDenied):
    error_code = "PERMISSION_DENIED"


async def current_principal(request: Request, token: str | None) -> Principal:
    if not token:
        raise NotAuthenticated("A bearer access token is required.")
    authenticator: Authenticator = request.app.state.authenticator
    return await authenticator.authenticate(token)


class _BearerPrincipal(OAuth2PasswordBearer):
    """The OpenAPI bearer scheme and the caller behind its token, as one dependency: FastAPI's
    work per dependency is paid on every request."""

    async def __call__(self, request: Request) -> Principal:  # type: ignore[override]
        return await current_principal(request, await super().__call__(request))


bearer_principal = _BearerPrincipal(
    tokenUrl="/api/v1/auth/login",
    auto_error=False,
    scheme_name=OAuth2PasswordBearer.__name__,  # the scheme's name in the OpenAPI document
)
CurrentPrincipal = Annotated[Principal, Depends(bearer_principal)]


def require(*permissions: str) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that lets the caller through only with every one of these permissions."""

    async def check(principal: CurrentPrincipal) -> Principal:
        missing = [permission for permission in permissions if not principal.can(permission)]
        if missing:
            raise PermissionRequired(f"Missing permission: {', '.join(missing)}.")
        return principal

    return check
