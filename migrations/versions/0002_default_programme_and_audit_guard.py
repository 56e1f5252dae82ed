"""Default programme (domain defaults) and an append-only audit trail.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

programmes = sa.table(
    "programmes",
    sa.column("name", sa.String),
    sa.column("core_modules", sa.Integer),
    sa.column("session_minutes", sa.Integer),
    sa.column("core_months", sa.Integer),
    sa.column("follow_up_months", sa.Integer),
    sa.column("follow_up_window_days", sa.Integer),
    sa.column("min_days_between_sessions", sa.Integer),
    sa.column("reminder_hours", sa.Integer),
    sa.column("timezone", sa.String),
    sa.column("holiday_region", sa.String),
    sa.column("modules_in_order", sa.Boolean),
    sa.column("invite_title", sa.String),
    sa.column("contact_phone", sa.String),
    sa.column("organizer_email", sa.String),
    sa.column("retention_years", sa.Integer),
)


def upgrade():
    op.bulk_insert(
        programmes,
        [
            {
                "name": "Online safety course",
                "core_modules": 5,
                "session_minutes": 90,
                "core_months": 4,
                "follow_up_months": 8,
                "follow_up_window_days": 14,
                "min_days_between_sessions": 7,
                "reminder_hours": 48,
                "timezone": "Europe/London",
                "holiday_region": "GB-ENG",
                "modules_in_order": True,
                "invite_title": "Appointment",
                "contact_phone": "0300 123 4567",
                "organizer_email": "appointments@appointments.invalid",
                "retention_years": 6,
            }
        ],
    )
    # The application must not be able to rewrite or remove its own audit trail
    # (DPA 2018 s.62): refuse UPDATE and DELETE at the database.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION audit_events_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'audit_events is append-only';
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            """
            CREATE TRIGGER audit_events_append_only
            BEFORE UPDATE OR DELETE ON audit_events
            FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()
            """
        )
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"""
                CREATE TRIGGER audit_events_no_{event.lower()}
                BEFORE {event} ON audit_events
                BEGIN
                    SELECT RAISE(ABORT, 'audit_events is append-only');
                END
                """
            )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events")
        op.execute("DROP FUNCTION IF EXISTS audit_events_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_delete")
    op.execute("DELETE FROM programmes WHERE name = 'Online safety course'")
