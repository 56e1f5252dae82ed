"""The bookings still waiting for an outcome, by session: the overdue registers' index.

Revision ID: 0014_booked_bookings_index
Revises: (see down_revision)
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_booked_bookings_index"
down_revision = "0013_outbox_failed_at"
branch_labels = None
depends_on = None

BOOKED = sa.text("status = 'booked'")


def upgrade():
    op.create_index("ix_bookings_booked_session", "bookings", ["session_id"],
                    postgresql_where=BOOKED, sqlite_where=BOOKED)


def downgrade():
    op.drop_index("ix_bookings_booked_session", table_name="bookings")
