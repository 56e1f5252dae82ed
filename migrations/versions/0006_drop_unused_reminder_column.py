"""Drop bookings.reminder_sent_for: reminders are outbox rows, and nothing read or wrote it.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    # A reminder is an outbox row with its own due time and idempotency key; this column
    # was an earlier design's and only misled a reader into thinking it was kept.
    op.drop_column("bookings", "reminder_sent_for")


def downgrade():
    op.add_column("bookings", sa.Column("reminder_sent_for", sa.DateTime(), nullable=True))
