"""idempotency keys are taken inside the work's transaction: no running marker

A key is now written in the same transaction as its work and answer, so no other request can
ever see it half done; `running_until`, which marked a claim taken in its own transaction, goes.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Keys still waiting for their answer belong to requests that can no longer finish.
    op.execute("DELETE FROM platform_idempotency_key WHERE status_code IS NULL")
    with op.batch_alter_table("platform_idempotency_key") as table:
        table.drop_column("running_until")


def downgrade() -> None:
    with op.batch_alter_table("platform_idempotency_key") as table:
        table.add_column(sa.Column("running_until", sa.DateTime(timezone=True), nullable=True))
