"""The flags queue reads open flags in the order it shows them, id included.

Revision ID: 0025_flag_queue_order
Revises: 0023_ops

With the id in the index, a force's queue is read by walking the open flags oldest
first and stopping at the page's last row, whatever the number of flags nationally,
instead of sorting every open flag for each page.
"""

from alembic import op

revision = "0025_flag_queue_order"
down_revision = "0023_ops"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("flags") as batch:
        batch.drop_index("ix_flags_status_raised")
        batch.create_index("ix_flags_status_raised_id", ["status", "raised_at", "id"])


def downgrade():
    with op.batch_alter_table("flags") as batch:
        batch.drop_index("ix_flags_status_raised_id")
        batch.create_index("ix_flags_status_raised", ["status", "raised_at"])
