from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from aibos.modules.auth.passwords import MAX_PASSWORD_LENGTH

Email = Annotated[EmailStr, AfterValidator(str.lower)]
Password = Annotated[str, Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)]
OpaqueToken = Annotated[str, StringConstraints(min_length=1, max_length=512)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Credentials(Strict):
    email: Email
    password: Password


class Registration(Strict):
    email: Email
    password: Password
    full_name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = ""


class TokenPair(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 (the OAuth2 token type, not a secret)
    expires_in: int
    refresh_token: str
    refresh_expires_in: int
    session_id: uuid.UUID


class RefreshRequest(Strict):
    refresh_token: OpaqueToken


class Revocation(BaseModel):
    token: OpaqueToken
    token_type_hint: str | None = None


class SessionPublic(BaseModel):
    id: uuid.UUID
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime
    user_agent: str
    ip_address: str | None
    current: bool


class PasswordChange(Strict):
    current_password: Password
    new_password: Password


class ResetRequest(Strict):
    email: Email


class PasswordReset(Strict):
    token: OpaqueToken
    new_password: Password


class EmailVerification(Strict):
    token: OpaqueToken


class Accepted(BaseModel):
    detail: str
