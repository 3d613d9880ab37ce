"""calls still going, found without reading the period's calls (issue #16)

The call statistics show the calls not ended yet («ещё идут») over the whole period, also
over its rolled-up days (a call going on past midnight): a partial index holds just them, a
handful at any moment, so the report reads no other call for it.

Revision ID: 0011_in_progress
Revises: 0010

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

revision: str = '0011_in_progress'
down_revision: Union[str, Sequence[str], None] = '0010'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

WHERE = sa.text("outcome = 'in_progress'")


def upgrade() -> None:
    op.create_index('ix_calls_in_progress', 'calls', ['started_at'],
                    postgresql_where=WHERE, sqlite_where=WHERE)


def downgrade() -> None:
    op.drop_index('ix_calls_in_progress', table_name='calls')
