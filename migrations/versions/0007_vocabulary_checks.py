"""Hold each status, outcome, kind, decision and target column to the vocabulary's values.

Revision ID: 0007
Revises: 0006
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# The values as they stand at this revision, written out: a later change to the
# vocabulary comes with its own migration, and this one must keep meaning the same.
CHECKS = {
    "enrolments": [
        ("ck_enrolments_status", "status",
         ("enrolled", "awaiting_follow_up", "completed", "referred", "withdrawn")),
    ],
    "sessions": [
        ("ck_sessions_status", "status", ("scheduled", "cancelled")),
    ],
    "bookings": [
        ("ck_bookings_status", "status",
         ("booked", "attended", "absent_excused", "absent_unexcused", "cancelled")),
    ],
    "attendance_records": [
        ("ck_attendance_records_outcome", "outcome",
         ("attended", "absent_excused", "absent_unexcused")),
    ],
    "flags": [
        ("ck_flags_kind", "kind", ("at_risk", "non_completion", "follow_up_missed")),
        ("ck_flags_status", "status", ("open", "closed")),
    ],
    "decisions": [
        ("ck_decisions_decision", "decision", ("refer", "continue")),
    ],
    "extensions": [
        ("ck_extensions_target", "target", ("core_deadline", "follow_up_window")),
    ],
    "outbox": [
        ("ck_outbox_kind", "kind",
         ("invitation", "update", "cancellation", "reminder", "digest")),
        ("ck_outbox_status", "status", ("pending", "sent", "failed", "superseded")),
    ],
    "job_runs": [
        ("ck_job_runs_outcome", "outcome", ("running", "succeeded", "failed")),
    ],
}


def _condition(column: str, allowed: tuple[str, ...]) -> str:
    listed = ", ".join(f"'{value}'" for value in allowed)
    return f"{column} IN ({listed})"


def upgrade():
    # Batch mode: SQLite adds a CHECK constraint only by rebuilding the table.
    for table, checks in CHECKS.items():
        with op.batch_alter_table(table) as batch:
            for name, column, allowed in checks:
                batch.create_check_constraint(name, _condition(column, allowed))


def downgrade():
    for table, checks in reversed(CHECKS.items()):
        with op.batch_alter_table(table) as batch:
            for name, _column, _allowed in reversed(checks):
                batch.drop_constraint(name, type_="check")
