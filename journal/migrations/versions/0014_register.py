"""the register of insured persons (РС ЕРЗЛ extract), its loads, callbacks asked from the queue (issue #19)

Revision ID: 0014_register
Revises: 0013_callback_rollup

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

revision: str = '0014_register'
down_revision: Union[str, Sequence[str], None] = '0013_callback_rollup'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # A callback the citizen asked for from the queue (pressed 1 instead of waiting).
    with op.batch_alter_table('callback_tasks') as batch:
        batch.add_column(sa.Column('origin', sa.String(length=16), nullable=True))
        batch.add_column(sa.Column('asked_at', sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        'insured_persons',
        sa.Column('enp', sa.String(length=16), nullable=False),
        sa.Column('full_name', sa.String(length=300), nullable=False),
        sa.Column('birth_date', sa.Date(), nullable=True),
        sa.Column('insurer_code', sa.String(length=32), nullable=False),
        sa.Column('policy_from', sa.Date(), nullable=True),
        sa.Column('policy_to', sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint('enp', name=op.f('pk_insured_persons')),
    )
    op.create_table(
        'register_loads',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('loaded_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('source', sa.String(length=300), nullable=False),
        sa.Column('loaded_by', sa.String(length=100), nullable=False),
        sa.Column('persons', sa.Integer(), nullable=False),
        sa.Column('skipped', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_register_loads')),
    )


def downgrade() -> None:
    with op.batch_alter_table('callback_tasks') as batch:
        batch.drop_column('asked_at')
        batch.drop_column('origin')
    op.drop_table('register_loads')
    op.drop_table('insured_persons')
