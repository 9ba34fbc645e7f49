"""users and auth: people, roles, credentials, sessions and tokens

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


ROLES = [
    ("admin", "Everything, including users and roles", ["*"]),
    ("controller", "Approves entries and closes periods", []),
    ("accountant", "Keeps the chart of accounts, drafts and posts entries", []),
    ("auditor", "Reads everything financial, changes nothing", []),
    ("member", "Their own profile only", []),
]


def upgrade() -> None:
    op.create_table(
        "users_role",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("permissions", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_users_role")),
    )
    role = sa.table(
        "users_role",
        sa.column("name", sa.String),
        sa.column("description", sa.String),
        sa.column("permissions", sa.JSON),
    )
    op.bulk_insert(
        role,
        [{"name": n, "description": d, "permissions": p} for n, d, p in ROLES],
    )
    op.create_table(
        "users_user",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("username", sa.String(length=32), nullable=True),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("email_verified", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users_user")),
        sa.UniqueConstraint("email", name=op.f("uq_users_user_email")),
        sa.UniqueConstraint("username", name=op.f("uq_users_user_username")),
    )
    op.create_table(
        "auth_action_token",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users_user.id"],
            name=op.f("fk_auth_action_token_user_id_users_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_auth_action_token")),
    )
    op.create_index(
        op.f("ix_auth_action_token_user_id"), "auth_action_token", ["user_id"], unique=False
    )
    op.create_table(
        "auth_credential",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tokens_valid_after", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users_user.id"],
            name=op.f("fk_auth_credential_user_id_users_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_auth_credential")),
    )
    op.create_table(
        "auth_session",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("user_agent", sa.String(length=300), nullable=False),
        sa.Column("ip_address", sa.String(length=45), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users_user.id"],
            name=op.f("fk_auth_session_user_id_users_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_session")),
    )
    op.create_index(op.f("ix_auth_session_user_id"), "auth_session", ["user_id"], unique=False)
    op.create_table(
        "users_user_role",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("role_name", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["role_name"], ["users_role.name"], name=op.f("fk_users_user_role_role_name_users_role")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users_user.id"],
            name=op.f("fk_users_user_role_user_id_users_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "role_name", name=op.f("pk_users_user_role")),
    )
    op.create_index(
        op.f("ix_users_user_role_role_name"), "users_user_role", ["role_name"], unique=False
    )
    op.create_table(
        "auth_refresh_token",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["auth_session.id"],
            name=op.f("fk_auth_refresh_token_session_id_auth_session"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_auth_refresh_token")),
    )
    op.create_index(
        op.f("ix_auth_refresh_token_session_id"), "auth_refresh_token", ["session_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_auth_refresh_token_session_id"), table_name="auth_refresh_token")
    op.drop_table("auth_refresh_token")
    op.drop_index(op.f("ix_users_user_role_role_name"), table_name="users_user_role")
    op.drop_table("users_user_role")
    op.drop_index(op.f("ix_auth_session_user_id"), table_name="auth_session")
    op.drop_table("auth_session")
    op.drop_table("auth_credential")
    op.drop_index(op.f("ix_auth_action_token_user_id"), table_name="auth_action_token")
    op.drop_table("auth_action_token")
    op.drop_table("users_user")
    op.drop_table("users_role")
