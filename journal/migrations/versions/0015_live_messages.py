"""live messages too big for a NOTIFY: the row the instances read by its id (issue #20)

Several service instances share one PostgreSQL; the instance that holds the PBX link sends
the live messages (screen-pops, the board, call and agent states) to the sockets of the
others over `LISTEN/NOTIFY`. A NOTIFY carries at most 8000 bytes: a bigger message is
written here and only its id is notified. Rows older than a few minutes are deleted by the
sender.

Revision ID: 0015_live_messages
Revises: 0014_register

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

revision: str = '0015_live_messages'
down_revision: Union[str, Sequence[str], None] = '0014_register'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('live_messages',
    sa.Column('id', BIG_ID, autoincrement=True, nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_live_messages'))
    )
    op.create_index(op.f('ix_live_messages_created_at'), 'live_messages', ['created_at'],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_live_messages_created_at'), table_name='live_messages')
    op.drop_table('live_messages')
