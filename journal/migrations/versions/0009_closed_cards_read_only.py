"""a closed card refuses UPDATE and DELETE in the database itself (PostgreSQL)

Closed is closed everywhere: the lifecycle (journal.cards) refuses every change of a closed
card, and this trigger makes sure nothing else (a script, a console session, a bug, a raw
`UPDATE`) changes or removes one either, as the audit log and the card history already do
(0005). Only the row's status as stored decides: closing itself (an UPDATE of a card that is
not closed yet) passes. SQLite, the single-box trial backend, keeps the lifecycle's rule only,
as for 0005.

Revision ID: 0009_closed
Revises: 0008

"""
from typing import Sequence, Union

from alembic import op

revision: str = '0009_closed'
down_revision: Union[str, Sequence[str], None] = '0008'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("""
        CREATE FUNCTION hotline_closed_card() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'closed card %: % refused', OLD.number, TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END $$
    """)
    op.execute("""
        CREATE TRIGGER cards_closed_read_only BEFORE UPDATE OR DELETE ON cards
        FOR EACH ROW WHEN (OLD.status = 'closed') EXECUTE FUNCTION hotline_closed_card()
    """)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER cards_closed_read_only ON cards")
    op.execute("DROP FUNCTION hotline_closed_card()")
