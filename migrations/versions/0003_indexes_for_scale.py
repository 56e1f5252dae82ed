"""Indexes for national scale: the sweep's candidates, booking authors, audit by actor.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    # Every foreign key leads an index (deleting a user must not scan all bookings).
    op.create_index("ix_bookings_created_by_id", "bookings", ["created_by_id"])
    # The sweep's unexcused absences: a few rows out of all bookings.
    op.create_index("ix_bookings_status_enrolment", "bookings", ["status", "enrolment_id"])
    # The sweep's missed follow-ups: closed windows of enrolments awaiting follow-up.
    op.create_index("ix_enrolments_status_follow_up_closes", "enrolments",
                    ["status", "follow_up_closes"])
    # The audit list filters by the actor's email.
    op.create_index("ix_audit_actor_email", "audit_events", ["actor", "id"])


def downgrade():
    op.drop_index("ix_audit_actor_email", table_name="audit_events")
    op.drop_index("ix_enrolments_status_follow_up_closes", table_name="enrolments")
    op.drop_index("ix_bookings_status_enrolment", table_name="bookings")
    op.drop_index("ix_bookings_created_by_id", table_name="bookings")
