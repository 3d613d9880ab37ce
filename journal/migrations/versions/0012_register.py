"""the region's register of insured persons (РС ЕРЗЛ extract) and its loads (issue #19)

Revision ID: 0012_register
Revises: 0011_in_progress

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

revision: str = '0012_register'
down_revision: Union[str, Sequence[str], None] = '0011_in_progress'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
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
    op.drop_table('register_loads')
    op.drop_table('insured_persons')
