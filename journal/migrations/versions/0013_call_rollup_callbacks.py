"""the callbacks of the secretary messages in the roll-up, marked on change (issue #21)

A year's call statistics counted the callbacks at report time: each of the year's 230,000
secretary messages joined to its card's first done callback and both moments to the lines'
working time, about half of the report. Now each rolled-up day also keeps its callbacks
(`call_rollup_callbacks`, journal.reports.calls): the called-back messages of the day and
the first done callbacks that fall on it, each with the working seconds of the day before
it, per report key. A callback is made after its message's day was rolled up, so the
database marks every change of a done callback as it marks the calls (0007): the moments of
its card's messages and of its card's done callbacks, old and new, go to `call_rollup_marks`,
and the days holding them are built again before a report uses them.

The days rolled up before this migration have no callbacks rows: they are dropped here and
built again by the next report or the nightly job.

Revision ID: 0013_callback_rollup
Revises: 0012_alerts

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

revision: str = '0013_callback_rollup'
down_revision: Union[str, Sequence[str], None] = '0012_alerts'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')

# The moments a done callback of a card decides: its card's secretary messages (called back
# or not) and its card's done callbacks (which one is the first). `{card}` is NEW or OLD.
_CARD_MOMENTS = (
    "SELECT started_at FROM calls WHERE card_id = {card}.card_id AND outcome = 'secretary'"
    " UNION SELECT done_at FROM callback_tasks WHERE card_id = {card}.card_id"
    " AND status = 'done' AND done_at IS NOT NULL"
)

# The lookups by card must use the card indexes even when the statistics say a table is
# small (a journal just created, or bulk-loaded with autovacuum off: the benchmark's 239,000
# callbacks, inserted right after its 3,000,000 calls, had not finished after ten minutes).
PG_FUNCTION = """
CREATE FUNCTION hotline_callback_rollup_mark() RETURNS trigger LANGUAGE plpgsql
SET enable_seqscan = off AS $$
BEGIN
    INSERT INTO call_rollup_marks (started_at)
    SELECT DISTINCT s FROM (
        SELECT started_at AS s FROM calls
        WHERE card_id IN (NEW.card_id, OLD.card_id) AND outcome = 'secretary'
        UNION SELECT done_at FROM callback_tasks
        WHERE card_id IN (NEW.card_id, OLD.card_id) AND status = 'done'
        UNION SELECT NEW.done_at UNION SELECT OLD.done_at
    ) AS v WHERE s IS NOT NULL;
    RETURN NULL;
END $$
"""
# Only a done callback counts: a pending one created, dialled or cancelled changes nothing.
_CHANGED = ("(OLD.status = 'done' OR NEW.status = 'done') AND (OLD.status IS DISTINCT FROM"
            " NEW.status OR OLD.done_at IS DISTINCT FROM NEW.done_at OR OLD.card_id IS DISTINCT"
            " FROM NEW.card_id)")


def _pg_triggers() -> list[str]:
    run = "FOR EACH ROW {when} EXECUTE FUNCTION hotline_callback_rollup_mark()"
    return [
        "CREATE TRIGGER callback_tasks_rollup_insert AFTER INSERT ON callback_tasks "
        + run.format(when="WHEN (NEW.status = 'done')"),
        "CREATE TRIGGER callback_tasks_rollup_delete AFTER DELETE ON callback_tasks "
        + run.format(when="WHEN (OLD.status = 'done')"),
        "CREATE TRIGGER callback_tasks_rollup_update AFTER UPDATE ON callback_tasks "
        + run.format(when=f"WHEN ({_CHANGED})"),
    ]


def _sqlite_triggers() -> list[str]:
    mark = "INSERT INTO call_rollup_marks (started_at)"
    new, old = _CARD_MOMENTS.format(card="NEW"), _CARD_MOMENTS.format(card="OLD")
    changed = _CHANGED.replace("IS DISTINCT FROM", "IS NOT")
    return [
        f"CREATE TRIGGER callback_tasks_rollup_insert AFTER INSERT ON callback_tasks"
        f" WHEN NEW.status = 'done' BEGIN {mark} {new}; END",
        f"CREATE TRIGGER callback_tasks_rollup_delete AFTER DELETE ON callback_tasks"
        f" WHEN OLD.status = 'done' BEGIN {mark} {old} UNION SELECT OLD.done_at"
        f" WHERE OLD.done_at IS NOT NULL; END",
        f"CREATE TRIGGER callback_tasks_rollup_update AFTER UPDATE ON callback_tasks"
        f" WHEN {changed} BEGIN {mark} {new} UNION {old} UNION SELECT OLD.done_at"
        f" WHERE OLD.done_at IS NOT NULL; END",
    ]


def upgrade() -> None:
    op.create_table('call_rollup_callbacks',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('message_day', sa.Date(), nullable=False),
    sa.Column('line_number', sa.String(length=20), nullable=True),
    sa.Column('organization_id', sa.BigInteger(), nullable=True),
    sa.Column('operator_id', sa.BigInteger(), nullable=True),
    sa.Column('hour', sa.Integer(), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=False),
    sa.Column('in_hours', sa.Boolean(), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('n_after', sa.Integer(), nullable=False),
    sa.Column('worked', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_call_rollup_callbacks'))
    )
    with op.batch_alter_table('call_rollup_callbacks', schema=None) as batch_op:
        batch_op.create_index('ix_call_rollup_callbacks_day_kind', ['day', 'kind'], unique=False)
    with op.batch_alter_table('call_rollup_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_call_rollup_messages_card_id'), ['card_id'], unique=False)
    with op.batch_alter_table('callback_tasks', schema=None) as batch_op:
        batch_op.create_index('ix_callback_tasks_done_at', ['done_at'], unique=False,
                              postgresql_where=sa.text("status = 'done'"),
                              sqlite_where=sa.text("status = 'done'"))
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(PG_FUNCTION)
        for statement in _pg_triggers():
            op.execute(statement)
    else:
        for statement in _sqlite_triggers():
            op.execute(statement)
    # Days rolled up without their callbacks: built again when next needed.
    op.execute("DELETE FROM call_rollup_months")
    op.execute("DELETE FROM call_rollup_days")


def downgrade() -> None:
    for name in ('callback_tasks_rollup_insert', 'callback_tasks_rollup_delete',
                 'callback_tasks_rollup_update'):
        op.execute(f"DROP TRIGGER {name}" + (" ON callback_tasks" if op.get_bind().dialect.name == 'postgresql' else ""))
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP FUNCTION hotline_callback_rollup_mark()")
    with op.batch_alter_table('callback_tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_callback_tasks_done_at')
    with op.batch_alter_table('call_rollup_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_call_rollup_messages_card_id'))
    op.drop_table('call_rollup_callbacks')
    op.execute("DELETE FROM call_rollup_months")
    op.execute("DELETE FROM call_rollup_days")
