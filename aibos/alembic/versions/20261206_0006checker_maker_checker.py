"""maker-checker: an entry's kind, who last changed a draft, everyone who made an entry

`ledger_entry.kind` is `journal`, or `closing` for a year-end closing entry and for the reversal
of one when its year is reopened; the closing entries already posted are marked (on PostgreSQL
with the guards on posted entries set aside for that one statement).
`updated_by` and `updated_at` tell who last changed a draft and when. `ledger_entry_maker` holds
everyone who changed or submitted an entry: like its creator, none of them may approve it.

Columns are added and dropped in place (no batch copy): on SQLite, copying `ledger_entry` would
drop the original table, and its lines with it (ON DELETE CASCADE).

Revision ID: 0006checker
Revises: 0005
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006checker"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Both: the balance check, deferred, would otherwise still be pending when the guard comes back.
GUARDS = "{switch} TRIGGER ledger_entry_immutable, {switch} TRIGGER ledger_entry_balanced"
MARK_CLOSING_ENTRIES = """
UPDATE ledger_entry SET kind = 'closing'
 WHERE id IN (SELECT closing_entry_id FROM ledger_fiscal_year WHERE closing_entry_id IS NOT NULL)
"""


def upgrade() -> None:
    op.add_column(
        "ledger_entry",
        sa.Column("kind", sa.String(length=20), server_default="journal", nullable=False),
    )
    op.add_column("ledger_entry", sa.Column("updated_by", sa.Uuid(), nullable=True))
    op.add_column(
        "ledger_entry", sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True)
    )
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        op.execute(f"ALTER TABLE ledger_entry {GUARDS.format(switch='DISABLE')}")
    op.execute(MARK_CLOSING_ENTRIES)
    if postgresql:
        op.execute(f"ALTER TABLE ledger_entry {GUARDS.format(switch='ENABLE')}")
    op.create_table(
        "ledger_entry_maker",
        sa.Column("entry_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["ledger_entry.id"],
            name=op.f("fk_ledger_entry_maker_entry_id_ledger_entry"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("entry_id", "user_id", name=op.f("pk_ledger_entry_maker")),
    )


def downgrade() -> None:
    op.drop_table("ledger_entry_maker")
    for column in ("updated_at", "updated_by", "kind"):
        op.drop_column("ledger_entry", column)
