"""Reversals: which entries may be reversed, and the reversing copy with its sides swapped."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import insert, select

from aibos.modules.ledger.exceptions import ClosingEntryNotReversible, EntryStateInvalid
from aibos.modules.ledger.schemas import EntryKind, EntryStatus
from aibos.modules.ledger.tables import entries, lines
from aibos.platform.db import Connection, Record, utcnow
from aibos.platform.security import Principal


async def check_reversible(connection: Connection, original: Record) -> None:
    """A posted entry, reversed once; never a closing entry (reopening its year undoes it)."""
    if original.kind == EntryKind.CLOSING:
        raise ClosingEntryNotReversible(
            "A year-end closing entry (or its reversal) is undone by reopening the year."
        )
    if original.status != EntryStatus.POSTED:
        raise EntryStateInvalid("Only a posted entry is reversed, and only once.")
    waiting = await connection.scalar(
        select(entries.c.status).where(entries.c.reversal_of_id == original.id)
    )
    if waiting is not None:
        raise EntryStateInvalid(f"The entry already has a reversal ({waiting}).")


async def copy_reversed(
    connection: Connection,
    actor: Principal,
    original: Record,
    day: date,
    description: str | None,
) -> uuid.UUID:
    """A draft linked to the original, of its kind, with every line's sides swapped."""
    reversal_id = uuid.uuid4()
    await connection.execute(
        insert(entries),
        {
            "id": reversal_id,
            "entry_date": day,
            "description": description or f"Reversal of {original.number}",
            "reference": original.number or "",
            "source": "reversal",
            "status": EntryStatus.DRAFT,
            "kind": original.kind,
            "total": original.total,
            "reversal_of_id": original.id,
            "created_by": actor.user_id,
            "created_at": utcnow(),
        },
    )
    originals = await connection.execute(select(lines).where(lines.c.entry_id == original.id))
    await connection.execute(
        insert(lines),
        [
            {
                **row._mapping,
                "id": uuid.uuid4(),
                "entry_id": reversal_id,
                "entry_date": day,
                "posted": False,
                "debit": row.credit,
                "credit": row.debit,
            }
            for row in originals
        ],
    )
    return reversal_id
