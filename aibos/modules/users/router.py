import uuid
from typing import Annotated

from fastapi import Depends, Query, Request, Response, status

from aibos.modules.users.api import MANAGE_USERS, READ_USERS
from aibos.modules.users.container import UsersContainer
from aibos.modules.users.schemas import (
    RolePublic,
    RolesAssignment,
    UserCreate,
    UserFilters,
    UserPublic,
    UserReplace,
    UserSelfUpdate,
    UsersPublic,
    UserUpdate,
)
from aibos.modules.users.service import UserService
from aibos.platform.routing import ModuleRouter, module_container
from aibos.platform.security import CurrentPrincipal, require

router = ModuleRouter("users")


async def _service(request: Request) -> UserService:
    return module_container(request, UsersContainer).service()


Users = Annotated[UserService, Depends(_service)]
CanRead = Depends(require(READ_USERS))
CanManage = Depends(require(MANAGE_USERS))


@router.get("/me")
async def read_me(request: Request, principal: CurrentPrincipal) -> UserPublic:
    """Your own profile."""
    # The busiest route: its service is not a dependency, as FastAPI's work per dependency is
    # paid on every request.
    users = await _service(request)
    return await users.me(principal)


@router.patch("/me")
async def update_me(
    principal: CurrentPrincipal, users: Users, changes: UserSelfUpdate
) -> UserPublic:
    """Change your name, username or email. A new email needs current_password, and until the
    link mailed to it is followed, sign-in and password resets stay with the old one (which is
    told of the change)."""
    return await users.update(principal, principal.user_id, changes.model_dump(exclude_unset=True))


@router.get("", dependencies=[CanRead])
async def list_users(users: Users, filters: Annotated[UserFilters, Query()]) -> UsersPublic:
    """Users, filtered, sorted and a page at a time, with the total count."""
    return await users.find(filters)


@router.post("", status_code=status.HTTP_201_CREATED, dependencies=[CanManage])
async def create_user(users: Users, data: UserCreate) -> UserPublic:
    """Create a user; they receive a mail to choose their password."""
    return await users.create(data)


@router.get("/roles", dependencies=[CanRead])
async def list_roles(users: Users) -> list[RolePublic]:
    """Every role and the permissions it grants."""
    return await users.roles()


@router.get("/{user_id}")
async def read_user(user_id: uuid.UUID, principal: CurrentPrincipal, users: Users) -> UserPublic:
    """A user: your own record, or anyone's with users:read."""
    return await users.get(principal, user_id)


@router.patch("/{user_id}")
async def update_user(
    user_id: uuid.UUID, principal: CurrentPrincipal, users: Users, changes: UserUpdate
) -> UserPublic:
    """Change some fields of a user: your own (as PATCH /users/me), or anyone's with
    users:manage; another user's new email applies at once and the old address is told."""
    return await users.update(principal, user_id, changes.model_dump(exclude_unset=True))


@router.put("/{user_id}", dependencies=[CanManage])
async def replace_user(
    user_id: uuid.UUID, principal: CurrentPrincipal, users: Users, data: UserReplace
) -> UserPublic:
    """Replace a user's profile fields; another user's new email applies at once (they are told
    at the old one), your own needs current_password and waits for confirmation."""
    return await users.replace(principal, user_id, data)


@router.put("/{user_id}/roles", dependencies=[CanManage])
async def assign_roles(user_id: uuid.UUID, users: Users, data: RolesAssignment) -> UserPublic:
    """Set a user's roles; tokens issued before stop working within a second."""
    return await users.assign_roles(user_id, data.roles)


@router.post("/{user_id}/deactivate", dependencies=[CanManage])
async def deactivate_user(user_id: uuid.UUID, users: Users) -> UserPublic:
    """Deactivate a user and end every session they have."""
    return await users.set_active(user_id, active=False)


@router.post("/{user_id}/reactivate", dependencies=[CanManage])
async def reactivate_user(user_id: uuid.UUID, users: Users) -> UserPublic:
    """Let a deactivated user sign in again."""
    return await users.set_active(user_id, active=True)


@router.post("/{user_id}/erase", dependencies=[CanManage])
async def erase_user(user_id: uuid.UUID, users: Users) -> UserPublic:
    """Erase a user's personal data: name and email blanked, deactivated, sessions and password
    gone; the record stays, so everything they did still names them."""
    return await users.erase(user_id)


@router.delete("/{user_id}", status_code=status.HTTP_204_NO_CONTENT, dependencies=[CanManage])
async def delete_user(user_id: uuid.UUID, users: Users) -> Response:
    """Delete a user and everything auth keeps of them; refused (409 USER_HAS_HISTORY) for anyone
    the ledger names: deactivate or erase them instead."""
    await users.delete(user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
