"""Indexes the compliance sweep reads on their own: its candidates and the unexcused absences.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

ABSENT = sa.text("status = 'absent_unexcused'")


def upgrade():
    # The sweep reads the unexcused absences' enrolment and id only: a partial index
    # holds just those rows, and once vacuumed it answers without the bookings table.
    op.create_index("ix_bookings_absent_unexcused", "bookings", ["enrolment_id", "id"],
                    postgresql_where=ABSENT, sqlite_where=ABSENT)
    op.drop_index("ix_bookings_status_enrolment", table_name="bookings")
    # The sweep's candidates need programme, id (and the window's opening) besides the
    # indexed status and date: INCLUDE them so the index alone answers.
    op.drop_index("ix_enrolments_status_deadline", table_name="enrolments")
    op.create_index("ix_enrolments_status_deadline", "enrolments", ["status", "core_deadline"],
                    postgresql_include=["programme_id", "id"])
    op.drop_index("ix_enrolments_status_follow_up_closes", table_name="enrolments")
    op.create_index("ix_enrolments_status_follow_up_closes", "enrolments",
                    ["status", "follow_up_closes"],
                    postgresql_include=["programme_id", "follow_up_opens", "id"])


def downgrade():
    op.drop_index("ix_enrolments_status_follow_up_closes", table_name="enrolments")
    op.create_index("ix_enrolments_status_follow_up_closes", "enrolments",
                    ["status", "follow_up_closes"])
    op.drop_index("ix_enrolments_status_deadline", table_name="enrolments")
    op.create_index("ix_enrolments_status_deadline", "enrolments", ["status", "core_deadline"])
    op.create_index("ix_bookings_status_enrolment", "bookings", ["status", "enrolment_id"])
    op.drop_index("ix_bookings_absent_unexcused", table_name="bookings")
