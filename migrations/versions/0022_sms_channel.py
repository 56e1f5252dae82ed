"""Text messages through GOV.UK Notify: an outbox row's channel, Notify's id and its report.

Revision ID: 0022_sms_channel
Revises: 0020_self_service
"""

import sqlalchemy as sa
from alembic import op

revision = "0022_sms_channel"
down_revision = "0020_self_service"
branch_labels = None
depends_on = None

# Written out, not read from the vocabulary: this migration must keep meaning the same.
CHANNELS = ("email", "sms")
TEXT_DELIVERY = ("created", "sending", "pending", "sent", "delivered", "permanent-failure",
                 "temporary-failure", "technical-failure")


def _condition(column: str, allowed: tuple[str, ...]) -> str:
    listed = ", ".join(f"'{value}'" for value in allowed)
    return f"{column} IN ({listed})"


def upgrade():
    # Batch mode: SQLite adds a CHECK constraint only by rebuilding the table. Every
    # message queued so far was an email.
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("channel", sa.String(8), nullable=False,
                                   server_default="email"))
        batch.add_column(sa.Column("notify_id", sa.String(36), nullable=True))
        batch.add_column(sa.Column("delivery_status", sa.String(24), nullable=True))
        batch.add_column(sa.Column("delivery_reported_at", sa.DateTime(), nullable=True))
        batch.create_check_constraint("ck_outbox_channel", _condition("channel", CHANNELS))
        batch.create_check_constraint("ck_outbox_delivery_status",
                                      _condition("delivery_status", TEXT_DELIVERY))


def downgrade():
    with op.batch_alter_table("outbox") as batch:
        batch.drop_constraint("ck_outbox_delivery_status", type_="check")
        batch.drop_constraint("ck_outbox_channel", type_="check")
        batch.drop_column("delivery_reported_at")
        batch.drop_column("delivery_status")
        batch.drop_column("notify_id")
        batch.drop_column("channel")
