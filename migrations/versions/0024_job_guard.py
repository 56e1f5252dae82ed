"""Each job slot counts the runs that started it.

Revision ID: 0024_job_guard
Revises: 0022_sms_channel
"""

import sqlalchemy as sa
from alembic import op

revision = "0024_job_guard"
down_revision = "0022_sms_channel"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("job_runs") as batch:
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="1"))


def downgrade():
    with op.batch_alter_table("job_runs") as batch:
        batch.drop_column("attempts")
