"""the call statistics' roll-up keyed by the phone that answered with no operator's account
(issue #16, item 7)

A call answered at a phone with no operator's account credited (nobody's account bound to
the phone, or one of another organization's, which the journal writer refuses to credit)
had no key of its own in the operators' section: it was counted with the calls nobody
answered. The roll-up keeps that phone (`calls.answered_interface` when `answered_by_id` is
empty) as one more report key. The days rolled up before have no such key: they are
deleted, and the next report (or the nightly job) builds them again.

Revision ID: 0016_rollup_phones
Revises: 0015_live_messages

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

revision: str = '0016_rollup_phones'
down_revision: Union[str, Sequence[str], None] = '0015_live_messages'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

TABLES = ('call_rollup', 'call_rollup_waits', 'call_rollup_messages', 'call_rollup_callbacks',
          'call_rollup_month_sums', 'call_rollup_month_waits')


def _forget_rolled_up_days() -> None:
    for table in (*TABLES, 'call_rollup_months', 'call_rollup_days'):
        op.execute(f"DELETE FROM {table}")


def upgrade() -> None:
    _forget_rolled_up_days()
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('phone', sa.String(length=80), nullable=True))


def downgrade() -> None:
    _forget_rolled_up_days()
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('phone')
