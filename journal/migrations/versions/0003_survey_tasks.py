"""survey tasks (issue #6: surveys of citizens on the results)

Revision ID: 0003
Revises: 0002

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

revision: str = '0003'
down_revision: Union[str, Sequence[str], None] = '0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('survey_tasks',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('card_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('organization_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('rating', sa.Integer(), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('rating IS NULL OR rating BETWEEN 1 AND 5', name=op.f('ck_survey_tasks_rating')),
    sa.ForeignKeyConstraint(['card_id'], ['cards.id'], name=op.f('fk_survey_tasks_card_id_cards')),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_survey_tasks_organization_id_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_tasks')),
    sa.UniqueConstraint('card_id', name='uq_survey_tasks_card_id')
    )
    with op.batch_alter_table('survey_tasks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_tasks_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index('ix_survey_tasks_status_next', ['status', 'next_attempt_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('survey_tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_survey_tasks_status_next')
        batch_op.drop_index(batch_op.f('ix_survey_tasks_organization_id'))
    op.drop_table('survey_tasks')
