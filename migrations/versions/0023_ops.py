"""What each job run did, counted: messages sent and failed, flags raised, and so on.

Revision ID: 0023_ops
Revises: 0021_missed_notices
"""

import sqlalchemy as sa
from alembic import op

revision = "0023_ops"
down_revision = "0021_missed_notices"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("job_runs", sa.Column("counts", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("job_runs") as batch:
        batch.drop_column("counts")
