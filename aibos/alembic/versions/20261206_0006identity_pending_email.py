"""users: a new email waits in pending_email until the link mailed to it is followed

Until then sign-in and password resets stay with the verified address in `email`.

Revision ID: 0006identity
Revises: 0006checker
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
    op.add_column("users_user", sa.Column("pending_email", sa.String(length=320), nullable=True))


def downgrade() -> None:
    # In place: on SQLite a batch copy of the table would cascade to what refers to users.
    op.drop_column("users_user", "pending_email")
