"""daily roll-up of the call statistics, kept valid by triggers on the calls (issue #7)

The call statistics of a quarter read every call of it (about 5 s for 750,000 calls); the
roll-up keeps each past local day's sums per report key and its wait histograms, so a report
reads a few rows per day instead (journal.reports.rollup). A day's roll-up must never outlive
a change of its calls: the journal writer replays its spool after an outage (a past day gains
calls), a call that spans midnight is finished the next day, and a script or a console may
change rows too. So the database itself marks every change: these triggers write the
`started_at` of each inserted, updated or deleted call (and of the call of each transfer) to
`call_rollup_marks`, and a rolled-up day with a mark is not used until it is built again.

Revision ID: 0007
Revises: 0006

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

revision: str = '0007'
down_revision: Union[str, Sequence[str], None] = '0006'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
# Only a change of what the report reads makes a day stale (not ended_at, end_cause...).
REPORTED = ("started_at, direction, line_number, organization_id, answered_by_id, outcome, "
            "queue_wait_seconds, talk_seconds, card_id")

PG_FUNCTION = """
CREATE FUNCTION hotline_call_rollup_mark() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'calls' THEN
        INSERT INTO call_rollup_marks (started_at)
        SELECT DISTINCT s FROM (VALUES (NEW.started_at), (OLD.started_at)) AS v(s)
        WHERE s IS NOT NULL;
    ELSE
        INSERT INTO call_rollup_marks (started_at)
        SELECT started_at FROM calls WHERE id = NEW.call_id OR id = OLD.call_id;
    END IF;
    RETURN NULL;
END $$
"""


def _pg_triggers() -> list[str]:
    return [
        "CREATE TRIGGER calls_rollup_insert_delete AFTER INSERT OR DELETE ON calls"
        " FOR EACH ROW EXECUTE FUNCTION hotline_call_rollup_mark()",
        f"CREATE TRIGGER calls_rollup_update AFTER UPDATE OF {REPORTED} ON calls"
        " FOR EACH ROW EXECUTE FUNCTION hotline_call_rollup_mark()",
        "CREATE TRIGGER call_transfers_rollup AFTER INSERT OR UPDATE OR DELETE ON call_transfers"
        " FOR EACH ROW EXECUTE FUNCTION hotline_call_rollup_mark()",
    ]


def _sqlite_triggers() -> list[str]:
    mark = "INSERT INTO call_rollup_marks (started_at) VALUES"
    of_call = "INSERT INTO call_rollup_marks (started_at) SELECT started_at FROM calls WHERE id ="
    return [
        f"CREATE TRIGGER calls_rollup_insert AFTER INSERT ON calls BEGIN {mark} (NEW.started_at); END",
        f"CREATE TRIGGER calls_rollup_delete AFTER DELETE ON calls BEGIN {mark} (OLD.started_at); END",
        f"CREATE TRIGGER calls_rollup_update AFTER UPDATE OF {REPORTED} ON calls"
        f" BEGIN {mark} (OLD.started_at); {mark} (NEW.started_at); END",
        f"CREATE TRIGGER call_transfers_rollup_insert AFTER INSERT ON call_transfers"
        f" BEGIN {of_call} NEW.call_id; END",
        f"CREATE TRIGGER call_transfers_rollup_update AFTER UPDATE ON call_transfers"
        f" BEGIN {of_call} OLD.call_id; {of_call} NEW.call_id; END",
        f"CREATE TRIGGER call_transfers_rollup_delete AFTER DELETE ON call_transfers"
        f" BEGIN {of_call} OLD.call_id; END",
    ]


def upgrade() -> None:
    op.create_table('call_rollup_days',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('start_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('end_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('built_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_call_rollup_days'))
    )
    op.create_table('call_rollup',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('line_number', sa.String(length=20), nullable=True),
    sa.Column('organization_id', sa.BigInteger(), nullable=True),
    sa.Column('operator_id', sa.BigInteger(), nullable=True),
    sa.Column('hour', sa.Integer(), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=False),
    sa.Column('in_hours', sa.Boolean(), nullable=False),
    *[sa.Column(name, sa.BigInteger() if name.endswith('_sum') else sa.Integer(), nullable=False)
      for name in ('offered', 'answered', 'abandoned', 'abandoned_wait_sum', 'abandoned_wait_n',
                   'answered_20s', 'answered_60s', 'wait_sum', 'wait_n', 'talk_sum', 'talk_n',
                   'transferred_l2', 'secretary')],
    sa.PrimaryKeyConstraint('id', name=op.f('pk_call_rollup'))
    )
    with op.batch_alter_table('call_rollup', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_call_rollup_day'), ['day'], unique=False)
    op.create_table('call_rollup_waits',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('dimension', sa.String(length=16), nullable=False),
    sa.Column('organization_id', sa.BigInteger(), nullable=True),
    sa.Column('line_number', sa.String(length=20), nullable=True),
    sa.Column('key', sa.BigInteger(), nullable=True),
    sa.Column('in_hours', sa.Boolean(), nullable=False),
    sa.Column('wait', sa.Integer(), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_call_rollup_waits'))
    )
    with op.batch_alter_table('call_rollup_waits', schema=None) as batch_op:
        batch_op.create_index('ix_call_rollup_waits_day_dimension', ['day', 'dimension'], unique=False)
    op.create_table('call_rollup_messages',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('call_id', sa.BigInteger(), nullable=False),
    sa.Column('card_id', sa.BigInteger(), nullable=True),
    sa.Column('line_number', sa.String(length=20), nullable=True),
    sa.Column('organization_id', sa.BigInteger(), nullable=True),
    sa.Column('operator_id', sa.BigInteger(), nullable=True),
    sa.Column('hour', sa.Integer(), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=False),
    sa.Column('in_hours', sa.Boolean(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_call_rollup_messages'))
    )
    with op.batch_alter_table('call_rollup_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_call_rollup_messages_day'), ['day'], unique=False)
    op.create_table('call_rollup_marks',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_call_rollup_marks'))
    )
    with op.batch_alter_table('call_rollup_marks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_call_rollup_marks_started_at'), ['started_at'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(PG_FUNCTION)
        for statement in _pg_triggers():
            op.execute(statement)
    else:
        for statement in _sqlite_triggers():
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER call_transfers_rollup ON call_transfers")
        op.execute("DROP TRIGGER calls_rollup_update ON calls")
        op.execute("DROP TRIGGER calls_rollup_insert_delete ON calls")
        op.execute("DROP FUNCTION hotline_call_rollup_mark()")
    else:
        for name in ('calls_rollup_insert', 'calls_rollup_delete', 'calls_rollup_update',
                     'call_transfers_rollup_insert', 'call_transfers_rollup_update',
                     'call_transfers_rollup_delete'):
            op.execute(f"DROP TRIGGER {name}")
    op.drop_table('call_rollup_marks')
    op.drop_table('call_rollup_messages')
    op.drop_table('call_rollup_waits')
    op.drop_table('call_rollup')
    op.drop_table('call_rollup_days')
