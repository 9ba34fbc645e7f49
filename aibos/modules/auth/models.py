import uuid
from datetime import datetime

from sqlalchemy import Column, ForeignKey
from sqlmodel import Field, SQLModel

from aibos.platform.db import UtcDateTime, utcnow


def _owned_by_user(*, primary_key: bool = False) -> Column:  # type: ignore[type-arg]
    return Column(
        ForeignKey("users_user.id", ondelete="CASCADE"),
        primary_key=primary_key,
        nullable=False,
        index=not primary_key,
    )


class Credential(SQLModel, table=True):
    __tablename__ = "auth_credential"

    user_id: uuid.UUID = Field(sa_column=_owned_by_user(primary_key=True))
    password_hash: str | None = Field(default=None, max_length=255)
    password_changed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    # Access tokens issued before this instant are refused (role change, password change).
    tokens_valid_after: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class AuthSession(SQLModel, table=True):
    """One sign-in on one device: the family of refresh tokens rotated from it."""

    __tablename__ = "auth_session"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(sa_column=_owned_by_user())
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    last_used_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    expires_at: datetime = Field(sa_type=UtcDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    user_agent: str = Field(default="", max_length=300)
    ip_address: str | None = Field(default=None, max_length=45)


class RefreshToken(SQLModel, table=True):
    __tablename__ = "auth_refresh_token"

    token_hash: str = Field(primary_key=True, max_length=64)
    session_id: uuid.UUID = Field(
        sa_column=Column(
            ForeignKey("auth_session.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    expires_at: datetime = Field(sa_type=UtcDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class ActionToken(SQLModel, table=True):
    """A single-use token mailed to a person: verify an email, reset or choose a password."""

    __tablename__ = "auth_action_token"

    token_hash: str = Field(primary_key=True, max_length=64)
    user_id: uuid.UUID = Field(sa_column=_owned_by_user())
    purpose: str = Field(max_length=20)
    email: str = Field(max_length=320)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    expires_at: datetime = Field(sa_type=UtcDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
