"""ledger: contra accounts carry the opposite normal balance of their type

`is_contra` on an account flips its normal balance (accumulated depreciation, an allowance for
impairment, sales returns). Accounts loaded from the default chart before it existed get the flag
where their code and name are still the default chart's.

Revision ID: 0006books
Revises: 0006identity
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006books"
down_revision: str | None = "0006identity"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT_CHART_CONTRA = [
    ("1090", "Accumulated depreciation - property plant and equipment"),
    ("1110", "Accumulated depreciation - right-of-use assets"),
    ("1610", "Allowance for impairment of trade receivables"),
    ("4090", "Sales returns and discounts"),
]
account = sa.table(
    "ledger_account",
    sa.column("code", sa.String),
    sa.column("name", sa.String),
    sa.column("is_contra", sa.Boolean),
)


def upgrade() -> None:
    op.add_column(
        "ledger_account",
        sa.Column("is_contra", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    for code, name in DEFAULT_CHART_CONTRA:
        op.execute(
            account.update()
            .where(account.c.code == code, account.c.name == name)
            .values(is_contra=True)
        )


def downgrade() -> None:
    # In place: on SQLite a batch copy of the table would cascade to every account's lines.
    op.drop_column("ledger_account", "is_contra")
