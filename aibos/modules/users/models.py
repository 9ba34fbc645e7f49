import uuid
from datetime import datetime

from sqlalchemy import JSON, Column, ForeignKey, String
from sqlmodel import Field, SQLModel

from aibos.platform.db import UtcDateTime, utcnow


class User(SQLModel, table=True):
    __tablename__ = "users_user"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    email: str = Field(max_length=320, unique=True)
    # A new address asked for by its owner: it replaces `email` once the link sent to it is used.
    pending_email: str | None = Field(default=None, max_length=320)
    username: str | None = Field(default=None, max_length=32, unique=True)
    full_name: str = Field(default="", max_length=200)
    is_active: bool = Field(default=True)
    email_verified: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class Role(SQLModel, table=True):
    """A named set of permissions: adding a role is a row here, not a code change."""

    __tablename__ = "users_role"

    name: str = Field(primary_key=True, max_length=32)
    description: str = Field(default="", max_length=200)
    permissions: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class UserRole(SQLModel, table=True):
    __tablename__ = "users_user_role"

    user_id: uuid.UUID = Field(
        sa_column=Column(
            ForeignKey("users_user.id", ondelete="CASCADE"), primary_key=True, nullable=False
        )
    )
    role_name: str = Field(
        sa_column=Column(
            String(32),
            ForeignKey("users_role.name"),
            primary_key=True,
            nullable=False,
            index=True,
        )
    )
