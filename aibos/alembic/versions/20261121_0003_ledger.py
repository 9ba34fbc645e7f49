"""ledger: chart of accounts, fiscal years, entries and balances; idempotency keys

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


LEDGER_PERMISSIONS = {
    "controller": [
        "ledger:read",
        "ledger:entries:approve",
        "ledger:periods:manage",
        "ledger:rates:write",
    ],
    "accountant": [
        "ledger:read",
        "ledger:accounts:write",
        "ledger:entries:write",
        "ledger:entries:post",
        "ledger:rates:write",
    ],
    "auditor": ["ledger:read"],
}
role = sa.table("users_role", sa.column("name", sa.String), sa.column("permissions", sa.JSON))


def upgrade() -> None:
    op.create_table(
        "ledger_account",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("mfrs_class", sa.String(length=40), nullable=False),
        sa.Column("parent_id", sa.Uuid(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["ledger_account.id"],
            name=op.f("fk_ledger_account_parent_id_ledger_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_account")),
        sa.UniqueConstraint("code", name=op.f("uq_ledger_account_code")),
    )
    with op.batch_alter_table("ledger_account", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ledger_account_parent_id"), ["parent_id"], unique=False
        )

    op.create_table(
        "ledger_exchange_rate",
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("rate", sa.Numeric(precision=24, scale=10), nullable=False),
        sa.PrimaryKeyConstraint("currency", "effective_date", name=op.f("pk_ledger_exchange_rate")),
    )
    op.create_table(
        "ledger_fiscal_year",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=20), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("closing_entry_id", sa.Uuid(), nullable=True),
        sa.Column("last_entry_number", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_fiscal_year")),
        sa.UniqueConstraint("name", name=op.f("uq_ledger_fiscal_year_name")),
        sa.UniqueConstraint("start_date", name=op.f("uq_ledger_fiscal_year_start_date")),
    )
    op.create_table(
        "platform_idempotency_key",
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("response", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("running_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("operation", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("owner", "key", name=op.f("pk_platform_idempotency_key")),
    )
    op.create_table(
        "ledger_daily_balance",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("debit", sa.BigInteger(), nullable=False),
        sa.Column("credit", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["ledger_account.id"],
            name=op.f("fk_ledger_daily_balance_account_id_ledger_account"),
        ),
        sa.PrimaryKeyConstraint("account_id", "day", name=op.f("pk_ledger_daily_balance")),
    )
    op.create_table(
        "ledger_entry",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=True),
        sa.Column("fiscal_year_id", sa.Uuid(), nullable=True),
        sa.Column("sequence", sa.BigInteger(), nullable=True),
        sa.Column("entry_date", sa.Date(), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=False),
        sa.Column("source", sa.String(length=50), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("reversal_of_id", sa.Uuid(), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_by", sa.Uuid(), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("posted_by", sa.Uuid(), nullable=True),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["fiscal_year_id"],
            ["ledger_fiscal_year.id"],
            name=op.f("fk_ledger_entry_fiscal_year_id_ledger_fiscal_year"),
        ),
        sa.ForeignKeyConstraint(
            ["reversal_of_id"],
            ["ledger_entry.id"],
            name=op.f("fk_ledger_entry_reversal_of_id_ledger_entry"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_entry")),
        sa.UniqueConstraint(
            "fiscal_year_id", "sequence", name=op.f("uq_ledger_entry_fiscal_year_id_sequence")
        ),
        sa.UniqueConstraint("number", name=op.f("uq_ledger_entry_number")),
        sa.UniqueConstraint("reversal_of_id", name=op.f("uq_ledger_entry_reversal_of_id")),
    )
    with op.batch_alter_table("ledger_entry", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ledger_entry_entry_date"), ["entry_date"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_ledger_entry_status"), ["status"], unique=False)

    op.create_table(
        "ledger_period",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("fiscal_year_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("status_reason", sa.String(length=500), nullable=False),
        sa.Column("status_changed_by", sa.Uuid(), nullable=True),
        sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["fiscal_year_id"],
            ["ledger_fiscal_year.id"],
            name=op.f("fk_ledger_period_fiscal_year_id_ledger_fiscal_year"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_period")),
        sa.UniqueConstraint(
            "fiscal_year_id", "number", name=op.f("uq_ledger_period_fiscal_year_id_number")
        ),
    )
    with op.batch_alter_table("ledger_period", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ledger_period_fiscal_year_id"), ["fiscal_year_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_ledger_period_start_date"), ["start_date"], unique=False
        )

    op.create_table(
        "ledger_line",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("entry_id", sa.Uuid(), nullable=False),
        sa.Column("line_number", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("entry_date", sa.Date(), nullable=False),
        sa.Column("posted", sa.Boolean(), nullable=False),
        sa.Column("debit", sa.BigInteger(), nullable=False),
        sa.Column("credit", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("rate", sa.Numeric(precision=24, scale=10), nullable=False),
        sa.Column("memo", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["ledger_account.id"],
            name=op.f("fk_ledger_line_account_id_ledger_account"),
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["ledger_entry.id"],
            name=op.f("fk_ledger_line_entry_id_ledger_entry"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_line")),
    )
    with op.batch_alter_table("ledger_line", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ledger_line_account_posted_date",
            ["account_id", "posted", "entry_date"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_ledger_line_entry_id"), ["entry_id"], unique=False)
    for name, permissions in LEDGER_PERMISSIONS.items():
        op.execute(role.update().where(role.c.name == name).values(permissions=permissions))


def downgrade() -> None:
    for name in LEDGER_PERMISSIONS:
        op.execute(role.update().where(role.c.name == name).values(permissions=[]))
    with op.batch_alter_table("ledger_line", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_line_entry_id"))
        batch_op.drop_index("ix_ledger_line_account_posted_date")

    op.drop_table("ledger_line")
    with op.batch_alter_table("ledger_period", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_period_start_date"))
        batch_op.drop_index(batch_op.f("ix_ledger_period_fiscal_year_id"))

    op.drop_table("ledger_period")
    with op.batch_alter_table("ledger_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_entry_status"))
        batch_op.drop_index(batch_op.f("ix_ledger_entry_entry_date"))

    op.drop_table("ledger_entry")
    op.drop_table("ledger_daily_balance")
    op.drop_table("platform_idempotency_key")
    op.drop_table("ledger_fiscal_year")
    op.drop_table("ledger_exchange_rate")
    with op.batch_alter_table("ledger_account", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_account_parent_id"))

    op.drop_table("ledger_account")
