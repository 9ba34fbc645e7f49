"""Changing an email: your own waits until the new mailbox confirms it; an administrator's
change to someone else's applies at once. The address in use is told either way (by auth)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from aibos.modules.users import repository
from aibos.modules.users.api import UserEmailChanged, UserEmailChangeRequested, UserIdentity
from aibos.modules.users.exceptions import EmailTaken

Change = tuple[dict[str, Any], UserEmailChanged | UserEmailChangeRequested | None]


async def email_change(
    session: AsyncSession, current: UserIdentity, new_email: str, *, own: bool
) -> Change:
    """The column values to write and the event to publish for setting this user's email."""
    if own:
        if new_email == current.email:  # asking for the address in use drops a pending one
            return {"pending_email": None}, None
        if await repository.email_in_use(session, new_email):
            raise EmailTaken()
        requested = UserEmailChangeRequested(
            user_id=current.id, email=current.email, pending_email=new_email
        )
        return {"pending_email": new_email}, requested
    if new_email == current.email:
        return {}, None
    changed = UserEmailChanged(user_id=current.id, email=new_email, previous_email=current.email)
    return {"email": new_email, "pending_email": None, "email_verified": False}, changed


def confirmed(row: Any, email: str) -> dict[str, Any] | None:
    """What confirming `email` from its mailbox writes: verified if it is the email in use,
    promoted if it is the pending one; None if it is neither."""
    if row.email == email:
        return {"email_verified": True}
    if row.pending_email == email:
        return {"email": email, "pending_email": None, "email_verified": True}
    return None
