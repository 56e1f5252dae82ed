"""The waitlist: enrolments waiting, in order, for a place in a full session.

Revision ID: 0017_waitlist
Revises: 0016_programme_settings
"""

import sqlalchemy as sa
from alembic import op

revision = "0017_waitlist"
down_revision = "0016_programme_settings"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "waitlist_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("enrolment_id", sa.Integer(), nullable=False),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.Column("added_by_id", sa.Integer(), nullable=True),
        sa.Column("removed_at", sa.DateTime(), nullable=True),
        sa.Column("removed_code", sa.String(length=40), nullable=True),
        sa.Column("removed_reason", sa.String(length=500), nullable=True),
        sa.Column("booking_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["session_id"], ["sessions.id"]),
        sa.ForeignKeyConstraint(["enrolment_id"], ["enrolments.id"]),
        sa.ForeignKeyConstraint(["added_by_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["booking_id"], ["bookings.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("session_id", "enrolment_id",
                            name="uq_waitlist_entries_session_enrolment"),
    )
    op.create_index("ix_waitlist_entries_session_order", "waitlist_entries",
                    ["session_id", "added_at", "id"])
    op.create_index("ix_waitlist_entries_enrolment_id", "waitlist_entries", ["enrolment_id"])
    op.create_index("ix_waitlist_entries_added_by_id", "waitlist_entries", ["added_by_id"])
    op.create_index("ix_waitlist_entries_booking_id", "waitlist_entries", ["booking_id"])


def downgrade():
    op.drop_table("waitlist_entries")
