"""each call, and the card registered for it, records its PBX (issue #20, item 3)

A contact center with several PBXs (sites, or regions sharing one journal) follows each over
its own AMI link; `calls.pbx` is the `[[pbx]] name` of the PBX that took the call ("main"
for every call before, and for the one PBX of the single `[ami]` form). The call key stays
unique across PBXs: the service prefixes every PBX's key but "main"'s with its name
("omsk-2:1790000000.7"), so equal Asterisk ids of two PBXs never meet. `cards.pbx` is the
PBX of the call a card was registered for (none for a written appeal). Cards registered
before stay without one (closed cards are read-only, and they were all "main"'s: their
calls say so).

Revision ID: 0017_calls_pbx
Revises: 0016_rollup_phones

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

revision: str = '0017_calls_pbx'
down_revision: Union[str, Sequence[str], None] = '0016_rollup_phones'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pbx', sa.String(length=32), nullable=False,
                                      server_default='main'))
        batch_op.create_index('ix_calls_pbx_started', ['pbx', 'started_at'], unique=False)
    with op.batch_alter_table('cards', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pbx', sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('cards', schema=None) as batch_op:
        batch_op.drop_column('pbx')
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.drop_index('ix_calls_pbx_started')
        batch_op.drop_column('pbx')
