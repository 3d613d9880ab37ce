"""indexes of the reports (issue #7), from EXPLAIN on bench/reports.py's journal

- call_transfers.at: the call statistics look up the transfers to level 2 of the period's
  calls; without it every transfer ever made is read (a hashed subplan over the whole table).
- evaluations.at: the operator quality report takes the evaluations of a period.

Revision ID: 0006
Revises: 0005

"""
from typing import Sequence, Union

from alembic import op

revision: str = '0006'
down_revision: Union[str, Sequence[str], None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('call_transfers', schema=None) as batch_op:
        batch_op.create_index('ix_call_transfers_at', ['at'], unique=False)
    with op.batch_alter_table('evaluations', schema=None) as batch_op:
        batch_op.create_index('ix_evaluations_at', ['at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('evaluations', schema=None) as batch_op:
        batch_op.drop_index('ix_evaluations_at')
    with op.batch_alter_table('call_transfers', schema=None) as batch_op:
        batch_op.drop_index('ix_call_transfers_at')
