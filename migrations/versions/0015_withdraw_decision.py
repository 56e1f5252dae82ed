"""Allow a withdraw decision.

Revision ID: 0015_withdraw_decision
Revises: 0014_booked_bookings_index
"""

from alembic import op

revision = "0015_withdraw_decision"
down_revision = "0014_booked_bookings_index"
branch_labels = None
depends_on = None

# The values as they stand at each end of this revision, written out: the vocabulary
# may change later, and this migration must keep meaning the same.
BEFORE = ("refer", "continue")
AFTER = ("refer", "continue", "withdraw")


def _condition(allowed: tuple[str, ...]) -> str:
    listed = ", ".join(f"'{value}'" for value in allowed)
    return f"decision IN ({listed})"


def _allow(allowed: tuple[str, ...]) -> None:
    # Batch mode: SQLite changes a CHECK constraint only by rebuilding the table.
    with op.batch_alter_table("decisions") as batch:
        batch.drop_constraint("ck_decisions_decision", type_="check")
        batch.create_check_constraint("ck_decisions_decision", _condition(allowed))


def upgrade():
    _allow(AFTER)


def downgrade():
    # A withdrawal cannot be written in the narrower vocabulary: refuse rather than lose it.
    withdrawn = op.get_bind().exec_driver_sql(
        "SELECT COUNT(*) FROM decisions WHERE decision = 'withdraw'").scalar()
    if withdrawn:
        raise RuntimeError(f"{withdrawn} withdraw decisions exist; downgrading would lose them")
    _allow(BEFORE)
