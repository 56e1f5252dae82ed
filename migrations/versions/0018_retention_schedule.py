"""Retention per record type: a schedule on each programme, erasure that leaves nothing
personal, and the one narrow way audit rows past their period are deleted.

The programme's single ``retention_years`` becomes four periods in months; the closed
enrolments' period keeps the years it had. A case's date of birth and screening answers
may now be empty (an erased case has none), a case keeps a digest of its reference, and a
message records when its contents were erased.

The audit trail stays append-only for the application's role. On PostgreSQL a DELETE
passes the trigger only when run as the table's owner and only for a row older than
AUDIT_FLOOR_MONTHS; ``purge_expired_audit_events``, a SECURITY DEFINER function owned by
the schema's owner, is the one way the application reaches that, and
``grant-app-role`` gives it EXECUTE alone. SQLite has no roles: its trigger refuses the
same young rows.

Revision ID: 0018_retention_schedule
Revises: 0017_waitlist
"""

from datetime import date

import sqlalchemy as sa
from alembic import op

revision = "0018_retention_schedule"
down_revision = "0017_waitlist"
branch_labels = None
depends_on = None

# Written out as they stand at this revision (diversion/domain/retention.py).
AUDIT_FLOOR_MONTHS = 36
DEFAULT_MONTHS = {
    "retention_ineligible_months": 12,
    "retention_message_months": 12,
    "retention_audit_months": 84,
}
SCREENING = {
    "previous_sexual_or_violent_conviction": sa.Boolean(),
    "first_offence": sa.Boolean(),
    "image_category": sa.String(length=1),
    "contact_offending_suspected": sa.Boolean(),
    "children_at_risk": sa.Boolean(),
    "prosecutor_agreed": sa.Boolean(),
    "participant_consented": sa.Boolean(),
}

programmes = sa.table(
    "programmes",
    sa.column("retention_years", sa.Integer),
    sa.column("retention_closed_months", sa.Integer),
    *(sa.column(name, sa.Integer) for name in DEFAULT_MONTHS),
)

PG_GUARD = f"""
CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger AS $$
BEGIN
    -- Only the table's owner (the purge function runs as it) deletes, and only rows
    -- past the shortest period an audit row is ever kept. Rows are never changed.
    IF TG_OP = 'DELETE'
       AND current_user = (SELECT pg_get_userbyid(relowner) FROM pg_class
                           WHERE oid = TG_RELID)
       AND OLD.at < (now() AT TIME ZONE 'UTC') - interval '{AUDIT_FLOOR_MONTHS} months' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_events is append-only';
END;
$$ LANGUAGE plpgsql
"""

PG_PURGE = f"""
CREATE FUNCTION purge_expired_audit_events(cutoff timestamp) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    removed integer;
BEGIN
    DELETE FROM {{schema}}.audit_events
    WHERE at < LEAST(cutoff, (now() AT TIME ZONE 'UTC') - interval '{AUDIT_FLOOR_MONTHS} months');
    GET DIAGNOSTICS removed = ROW_COUNT;
    RETURN removed;
END;
$$
"""

PG_GUARD_BEFORE = """
CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only';
END;
$$ LANGUAGE plpgsql
"""

SQLITE_GUARD = f"""
CREATE TRIGGER audit_events_no_delete
BEFORE DELETE ON audit_events
WHEN OLD.at >= datetime('now', '-{AUDIT_FLOOR_MONTHS} months')
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END
"""

SQLITE_GUARD_BEFORE = """
CREATE TRIGGER audit_events_no_delete
BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END
"""


def upgrade():
    with op.batch_alter_table("programmes") as batch:
        batch.add_column(sa.Column("retention_closed_months", sa.Integer(), nullable=True))
        for name in DEFAULT_MONTHS:
            batch.add_column(sa.Column(name, sa.Integer(), nullable=True))
    op.execute(programmes.update().values(
        retention_closed_months=programmes.c.retention_years * 12, **DEFAULT_MONTHS))
    with op.batch_alter_table("programmes") as batch:
        for name in ("retention_closed_months", *DEFAULT_MONTHS):
            batch.alter_column(name, existing_type=sa.Integer(), nullable=False)
        batch.drop_column("retention_years")

    with op.batch_alter_table("cases") as batch:
        batch.alter_column("date_of_birth", existing_type=sa.Date(), nullable=True)
        for name, type_ in SCREENING.items():
            batch.alter_column(name, existing_type=type_, nullable=True)
        batch.add_column(sa.Column("reference_digest", sa.String(length=64), nullable=True))
        batch.create_index("ix_cases_reference_digest", ["reference_digest"])
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("erased_at", sa.DateTime(), nullable=True))

    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        schema = bind.execute(sa.text("SELECT current_schema()")).scalar_one()
        op.execute(PG_GUARD)
        op.execute(PG_PURGE.replace("{schema}", f'"{schema}"'))
        op.execute("REVOKE ALL ON FUNCTION purge_expired_audit_events(timestamp) FROM PUBLIC")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_delete")
        op.execute(SQLITE_GUARD)


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS purge_expired_audit_events(timestamp)")
        op.execute(PG_GUARD_BEFORE)
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_delete")
        op.execute(SQLITE_GUARD_BEFORE)

    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("erased_at")
    # An erased case keeps the placeholders the earlier revision wrote.
    cases = sa.table("cases", sa.column("date_of_birth", sa.Date),
                     *(sa.column(name, type_) for name, type_ in SCREENING.items()))
    op.execute(cases.update().where(cases.c.date_of_birth.is_(None))
               .values(date_of_birth=date(1900, 1, 1)))
    op.execute(cases.update().where(cases.c.image_category.is_(None)).values(
        {name: ("A" if name == "image_category" else False) for name in SCREENING}))
    with op.batch_alter_table("cases") as batch:
        batch.drop_index("ix_cases_reference_digest")
        batch.drop_column("reference_digest")
        for name, type_ in SCREENING.items():
            batch.alter_column(name, existing_type=type_, nullable=False)
        batch.alter_column("date_of_birth", existing_type=sa.Date(), nullable=False)

    with op.batch_alter_table("programmes") as batch:
        batch.add_column(sa.Column("retention_years", sa.Integer(), nullable=True))
    op.execute(programmes.update().values(
        retention_years=sa.func.greatest(1, programmes.c.retention_closed_months / 12)
        if bind.dialect.name == "postgresql"
        else sa.func.max(1, programmes.c.retention_closed_months / 12)))
    with op.batch_alter_table("programmes") as batch:
        batch.alter_column("retention_years", existing_type=sa.Integer(), nullable=False)
        for name in ("retention_closed_months", *DEFAULT_MONTHS):
            batch.drop_column(name)
