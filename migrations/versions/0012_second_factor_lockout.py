"""A second factor locked after too many wrong codes, until an administrator clears it.

Revision ID: 0012_second_factor_lockout
Revises: (see down_revision)
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_second_factor_lockout"
down_revision = "0010_outcome_report_index"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("second_factor_failures", sa.Integer(), nullable=False,
                                   server_default="0"))
        batch.add_column(sa.Column("second_factor_locked_at", sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("users") as batch:
        batch.drop_column("second_factor_locked_at")
        batch.drop_column("second_factor_failures")
