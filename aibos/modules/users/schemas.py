from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    field_validator,
)

from aibos.platform.fields import Flag, QueryFlag, omittable

Email = Annotated[EmailStr, AfterValidator(str.lower)]
Username = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{2,31}$"),
    AfterValidator(str.lower),
]
FullName = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
RoleName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{1,31}$")]


class Strict(BaseModel):
    """Unknown fields are refused, so nobody slips in roles, ids or flags."""

    model_config = ConfigDict(extra="forbid")


class UserPublic(BaseModel):
    id: uuid.UUID
    email: str
    pending_email: str | None = Field(
        description="A new email asked for and not yet confirmed; `email` is used until then"
    )
    username: str | None
    full_name: str
    roles: list[str]
    is_active: bool
    email_verified: bool
    created_at: datetime
    updated_at: datetime


class UsersPublic(BaseModel):
    data: list[UserPublic]
    count: int


CurrentPassword = Annotated[
    str | None,
    Field(
        default=None,
        min_length=1,
        max_length=256,
        description="Your password: needed to change your own email",
    ),
]


class UserSelfUpdate(Strict):
    """Fields left out stay as they are; `username: null` removes the username. A new email of
    your own needs `current_password` and waits in `pending_email` until confirmed."""

    full_name: FullName | None = omittable()
    username: Username | None = None
    email: Email | None = omittable()
    current_password: CurrentPassword = None

    @field_validator("full_name", "email", "email_verified", check_fields=False)
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("may be left out, but not set to null")
        return value


class UserUpdate(UserSelfUpdate):
    email_verified: Flag | None = omittable()


class UserReplace(Strict):
    email: Email
    username: Username | None
    full_name: FullName
    email_verified: Flag
    current_password: CurrentPassword = None


class UserCreate(Strict):
    email: Email
    full_name: FullName = ""
    username: Username | None = None
    roles: list[RoleName] = Field(default_factory=lambda: ["member"], min_length=1)


class RolesAssignment(Strict):
    roles: list[RoleName] = Field(min_length=1)


class RolePublic(BaseModel):
    name: str
    description: str
    permissions: list[str]


class UserSort(StrEnum):
    EMAIL = "email"
    EMAIL_DESC = "-email"
    NAME = "full_name"
    NAME_DESC = "-full_name"
    CREATED = "created_at"
    CREATED_DESC = "-created_at"


class UserFilters(BaseModel):
    q: str | None = Field(default=None, max_length=200, description="Text in email or name")
    role: RoleName | None = None
    is_active: QueryFlag | None = None
    sort: UserSort = UserSort.CREATED
    page: int = Field(default=1, ge=1, le=1_000_000)
    size: int = Field(default=50, ge=1, le=100)
