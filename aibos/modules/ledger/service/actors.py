"""Nobody who acted on the books is deleted: their name must stay behind every record."""

from __future__ import annotations

from sqlalchemy import exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from aibos.modules.ledger import tables
from aibos.modules.ledger.exceptions import UserHasHistory
from aibos.modules.users.api import UserDeleting
from aibos.platform.events import EventBus

# Every column naming who did something (created_by, approved_by, posted_by, updated_by,
# status_changed_by...), found by name so that a new one is guarded as soon as it exists.
_TABLES = (tables.accounts, tables.fiscal_years, tables.periods, tables.rates, tables.entries)
ACTOR_COLUMNS = [
    columns
    for columns in (
        [column for column in table.c if column.name.endswith("_by")] for table in _TABLES
    )
    if columns
] + [[tables.entry_makers.c.user_id]]  # everyone who changed or submitted another's draft


class ActorGuard:
    """Refuses, inside the deletion's transaction, to delete a user the ledger names."""

    def subscribe(self, events: EventBus) -> None:
        events.subscribe(UserDeleting, self._refuse_if_named)

    async def _refuse_if_named(self, event: UserDeleting, session: AsyncSession) -> None:
        for columns in ACTOR_COLUMNS:
            if await session.scalar(
                select(exists().where(or_(*(column == event.user_id for column in columns))))
            ):
                raise UserHasHistory(
                    "This user is named on ledger records, so the account is kept: deactivate"
                    " it, or erase its personal data (POST /api/v1/users/{id}/erase)."
                )
