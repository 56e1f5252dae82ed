"""Record when an outbox message failed for good: proof of notice says when.

Revision ID: 0013_outbox_failed_at
Revises: (see down_revision)
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_outbox_failed_at"
down_revision = "0012_second_factor_lockout"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("failed_at", sa.DateTime(), nullable=True))
    # A message given up on had its next attempt set to the moment it failed.
    op.execute("UPDATE outbox SET failed_at = next_attempt_at WHERE status = 'failed'")


def downgrade():
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("failed_at")
