"""one pending callback per card

The secretary's FastAGI and the journal writer may both register the same message at once;
each checked for a pending callback before adding one, which a narrow race could pass twice.
Now a partial unique index says it: at most one `pending` task per card. Duplicates left by
that race are cancelled first (the earliest task of each card stays).

Revision ID: 0008
Revises: 0007

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

revision: str = '0008'
down_revision: Union[str, Sequence[str], None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    op.execute(
        "UPDATE callback_tasks SET status = 'cancelled' WHERE status = 'pending' AND id NOT IN "
        "(SELECT MIN(id) FROM callback_tasks WHERE status = 'pending' GROUP BY card_id)"
    )
    with op.batch_alter_table('callback_tasks', schema=None) as batch_op:
        batch_op.create_index('ux_callback_tasks_pending_card', ['card_id'], unique=True,
                              postgresql_where=PENDING, sqlite_where=PENDING)


def downgrade() -> None:
    with op.batch_alter_table('callback_tasks', schema=None) as batch_op:
        batch_op.drop_index('ux_callback_tasks_pending_card')
