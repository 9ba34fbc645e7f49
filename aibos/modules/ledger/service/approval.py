"""Maker-checker: who may change a draft, which entries wait for approval, who approves them.

Makers are the creator, everyone who changed the draft and everyone who submitted it for
approval; none of them approves it. A draft is changed or discarded by its creator, or by
someone who may approve entries, who by changing it becomes one of its makers."""

from __future__ import annotations

from sqlalchemy import select

from aibos.modules.ledger import api as permissions
from aibos.modules.ledger.exceptions import (
    DraftNotYours,
    EntryNotEditable,
    EntryStateInvalid,
    SelfApproval,
)
from aibos.modules.ledger.schemas import EntryStatus
from aibos.modules.ledger.tables import entries, entry_makers
from aibos.platform.db import Connection, Record, insert_or_update
from aibos.platform.security import Principal


def check_may_change(actor: Principal, entry: Record, *, discarding: bool = False) -> None:
    """Only a draft changes, by its creator or a controller; a reversal is never rewritten."""
    if entry.status != EntryStatus.DRAFT:
        raise EntryNotEditable("Posted entries are immutable; reverse them instead.")
    if entry.created_by != actor.user_id and not actor.can(permissions.APPROVE):
        raise DraftNotYours("Only its creator or a controller changes or discards this draft.")
    if entry.reversal_of_id is not None and not discarding:
        raise EntryNotEditable("A reversal is posted or discarded as it is, never rewritten.")


async def add_maker(connection: Connection, entry: Record, actor: Principal) -> None:
    """Count the actor among the entry's makers (its creator is known already)."""
    if entry.created_by != actor.user_id:
        statement = insert_or_update(connection.dialect.name, entry_makers)
        await connection.execute(
            statement.on_conflict_do_nothing(), {"entry_id": entry.id, "user_id": actor.user_id}
        )


async def check_may_approve(connection: Connection, actor: Principal, entry: Record) -> None:
    """A waiting entry, approved by none of its makers."""
    if entry.status != EntryStatus.PENDING_APPROVAL:
        raise EntryStateInvalid("Only an entry awaiting approval is approved.")
    made = await connection.scalar(
        select(entry_makers.c.user_id).where(
            entry_makers.c.entry_id == entry.id, entry_makers.c.user_id == actor.user_id
        )
    )
    if entry.created_by == actor.user_id or made is not None:
        raise SelfApproval("You created, changed or submitted this entry; another approves it.")


async def needs_approval(connection: Connection, entry: Record, threshold: int) -> bool:
    """Above the threshold; or the reversal of an approved entry, which undoes an approved
    amount (or, reversing a reversal, posts it again) and is checked as that amount was."""
    if entry.total > threshold:
        return True
    if entry.reversal_of_id is None:
        return False
    approver = await connection.scalar(
        select(entries.c.approved_by).where(entries.c.id == entry.reversal_of_id)
    )
    return approver is not None
