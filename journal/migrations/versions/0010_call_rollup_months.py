"""monthly layer of the call statistics' roll-up (issue #21)

A year's call statistics read 365 days of the daily roll-up (430,000 sums rows and 3,000,000
wait-histogram rows on the benchmark's journal): over 3 s. These tables keep each calendar
month's days added up once more, per report key and per section's wait; a month is used only
while its days are the ones it was built from (`signature`: each day's fingerprint and
built_at), otherwise it is built again from its days (journal.reports.calls).

Revision ID: 0010
Revises: 0009_closed

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

revision: str = '0010'
down_revision: Union[str, Sequence[str], None] = '0009_closed'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
SUMS = ('offered', 'answered', 'abandoned', 'abandoned_wait_sum', 'abandoned_wait_n',
        'answered_20s', 'answered_60s', 'wait_sum', 'wait_n', 'talk_sum', 'talk_n',
        'transferred_l2', 'secretary')


def upgrade() -> None:
    op.create_table('call_rollup_months',
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('signature', sa.String(length=64), nullable=False),
    sa.Column('built_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('month', name=op.f('pk_call_rollup_months'))
    )
    op.create_table('call_rollup_month_sums',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('line_number', sa.String(length=20), nullable=True),
    sa.Column('organization_id', sa.BigInteger(), nullable=True),
    sa.Column('operator_id', sa.BigInteger(), nullable=True),
    sa.Column('hour', sa.Integer(), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=False),
    sa.Column('in_hours', sa.Boolean(), nullable=False),
    *[sa.Column(name, sa.BigInteger() if name.endswith('_sum') else sa.Integer(), nullable=False)
      for name in SUMS],
    sa.PrimaryKeyConstraint('id', name=op.f('pk_call_rollup_month_sums'))
    )
    with op.batch_alter_table('call_rollup_month_sums', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_call_rollup_month_sums_month'), ['month'], unique=False)
    op.create_table('call_rollup_month_waits',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('dimension', sa.String(length=16), nullable=False),
    sa.Column('organization_id', sa.BigInteger(), nullable=True),
    sa.Column('line_number', sa.String(length=20), nullable=True),
    sa.Column('key', sa.BigInteger(), nullable=True),
    sa.Column('in_hours', sa.Boolean(), nullable=False),
    sa.Column('wait', sa.Integer(), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_call_rollup_month_waits'))
    )
    with op.batch_alter_table('call_rollup_month_waits', schema=None) as batch_op:
        batch_op.create_index('ix_call_rollup_month_waits_month_dimension', ['month', 'dimension'],
                              unique=False)


def downgrade() -> None:
    op.drop_table('call_rollup_month_waits')
    op.drop_table('call_rollup_month_sums')
    op.drop_table('call_rollup_months')
