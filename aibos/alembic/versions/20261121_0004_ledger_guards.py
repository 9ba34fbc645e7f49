"""ledger guards: the database itself refuses broken books

Every line is a positive debit or a positive credit, not both (both databases). On PostgreSQL,
triggers also refuse: a posted entry whose posted lines do not balance or number fewer than two
(checked at commit), any change to a posted entry other than marking it reversed, deleting it,
and changing, deleting or adding lines of a posted entry.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ONE_SIDED = "(debit > 0 AND credit = 0) OR (credit > 0 AND debit = 0)"

POSTGRES_GUARDS = """
CREATE FUNCTION ledger_entry_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE debits bigint; credits bigint; line_count integer; unposted integer;
BEGIN
    SELECT coalesce(sum(debit), 0), coalesce(sum(credit), 0), count(*),
           count(*) FILTER (WHERE NOT posted)
      INTO debits, credits, line_count, unposted
      FROM ledger_line WHERE entry_id = NEW.id;
    IF line_count < 2 OR unposted > 0 OR debits <> credits OR debits <> NEW.total THEN
        RAISE EXCEPTION 'ledger entry % does not balance (% debits, % credits, % lines)',
            NEW.id, debits, credits, line_count USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER ledger_entry_balanced
    AFTER INSERT OR UPDATE ON ledger_entry DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (NEW.status IN ('posted', 'reversed'))
    EXECUTE FUNCTION ledger_entry_balanced();

CREATE FUNCTION ledger_entry_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status IN ('posted', 'reversed') THEN
        IF TG_OP = 'UPDATE' AND OLD.status = 'posted' AND NEW.status = 'reversed'
           AND (to_jsonb(NEW) - 'status') = (to_jsonb(OLD) - 'status') THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION 'posted ledger entry % is immutable; reverse it', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
END $$;

CREATE TRIGGER ledger_entry_immutable BEFORE UPDATE OR DELETE ON ledger_entry
    FOR EACH ROW EXECUTE FUNCTION ledger_entry_immutable();

CREATE FUNCTION ledger_line_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE entry_status text;
BEGIN
    IF TG_OP <> 'INSERT' AND OLD.posted THEN
        RAISE EXCEPTION 'posted ledger line % is immutable', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP <> 'DELETE' THEN
        SELECT status INTO entry_status FROM ledger_entry WHERE id = NEW.entry_id;
        IF entry_status IN ('posted', 'reversed') THEN
            RAISE EXCEPTION 'ledger entry % is posted: its lines are fixed', NEW.entry_id
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
    END IF;
    RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
END $$;

CREATE TRIGGER ledger_line_immutable BEFORE INSERT OR UPDATE OR DELETE ON ledger_line
    FOR EACH ROW EXECUTE FUNCTION ledger_line_immutable();
"""

DROP_POSTGRES_GUARDS = """
DROP TRIGGER ledger_line_immutable ON ledger_line

DROP FUNCTION ledger_line_immutable()

DROP TRIGGER ledger_entry_immutable ON ledger_entry

DROP FUNCTION ledger_entry_immutable()

DROP TRIGGER ledger_entry_balanced ON ledger_entry

DROP FUNCTION ledger_entry_balanced()
"""


def _run_each(script: str) -> None:
    """asyncpg takes one statement at a time; here statements are parted by blank lines."""
    for statement in script.split("\n\n"):
        if statement.strip():
            op.execute(statement)


def upgrade() -> None:
    with op.batch_alter_table("ledger_line") as batch:
        batch.create_check_constraint("one_sided", ONE_SIDED)
    if op.get_bind().dialect.name == "postgresql":
        _run_each(POSTGRES_GUARDS)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _run_each(DROP_POSTGRES_GUARDS)
    with op.batch_alter_table("ledger_line") as batch:
        batch.drop_constraint("one_sided", type_="check")
