"""The missed-session notice, and warning letters handed over in person.

Revision ID: 0021_missed_notices
Revises: 0024_job_guard
"""

import sqlalchemy as sa
from alembic import op

revision = "0021_missed_notices"
down_revision = "0024_job_guard"
branch_labels = None
depends_on = None

# The outbox's kinds at each end of this revision, written out: the vocabulary may
# change later, and this migration must keep meaning the same.
BEFORE = ("invitation", "update", "cancellation", "reminder", "digest")
AFTER = (*BEFORE, "missed_notice")


def _allow(allowed: tuple[str, ...]) -> None:
    listed = ", ".join(f"'{kind}'" for kind in allowed)
    # Batch mode: SQLite changes a CHECK constraint only by rebuilding the table.
    with op.batch_alter_table("outbox") as batch:
        batch.drop_constraint("ck_outbox_kind", type_="check")
        batch.create_check_constraint("ck_outbox_kind", f"kind IN ({listed})")


def upgrade():
    _allow(AFTER)
    op.create_table(
        "warning_letter_handovers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enrolment_id", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column("handed_over_on", sa.Date(), nullable=False),
        sa.Column("handed_over_by", sa.String(length=200), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["enrolment_id"], ["enrolments.id"]),
        sa.ForeignKeyConstraint(["booking_id"], ["bookings.id"]),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_warning_letter_handovers_enrolment_id", "warning_letter_handovers",
                    ["enrolment_id"])
    op.create_index("ix_warning_letter_handovers_booking_id", "warning_letter_handovers",
                    ["booking_id"])
    op.create_index("ix_warning_letter_handovers_recorded_by_id", "warning_letter_handovers",
                    ["recorded_by_id"])


def downgrade():
    op.drop_table("warning_letter_handovers")
    # A notice cannot be written in the narrower vocabulary: refuse rather than lose it.
    notices = op.get_bind().exec_driver_sql(
        "SELECT COUNT(*) FROM outbox WHERE kind = 'missed_notice'").scalar()
    if notices:
        raise RuntimeError(f"{notices} missed-session notices exist; downgrading would lose them")
    _allow(BEFORE)
