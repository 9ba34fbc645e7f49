"""users: a new email waits in pending_email until the link mailed to it is followed

Until then sign-in and password resets stay with the verified address in `email`.

Revision ID: 0006identity
Revises: 0005
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006identity"
down_revision: str | None = "0006checker"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users_user") as table:
        table.add_column(sa.Column("pending_email", sa.String(length=320), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users_user") as table:
        table.drop_column("pending_email")
