"""Batches of many calls through `apply_records`: cards registered together, the writer's
`WrittenCall`, and the live feed's screen-pop records (audited access to personal data).

Runs on PostgreSQL and SQLite, except the statement count, which is PostgreSQL's: SQLite
inserts row by row (its RETURNING order is not guaranteed), in-process and without round trips.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, func, inspect, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from hotline.bootstrap import sync_region
from hotline.calls.store import apply_records
from hotline.calls.writer import CallJournalWriter, WrittenCall
from hotline.config import Settings
from hotline.calls.spool import DurableSpool
from journal.db import make_sessionmaker, unit_of_work
from journal.models import AuditEntry, Call, CallEvent, Card, CardHistory
from tests.support.people import make_people
from tests.support.records import _replaced, records_of

LINES = {"tfoms": "88007758565", "sogaz": "88002009204"}
TEMPLATE = "operator_answered"
TEMPLATE_CALL = "1795444523.2"


def many_calls(n: int, prefix: str = "c") -> list[dict]:
    """`n` copies of an answered call, to the fund's and an insurer's line in turn, one call's
    records after another's (the i-th call arrives i-th)."""
    template = records_of(TEMPLATE)
    records: list[dict] = []
    for i in range(n):
        org = ("tfoms", "sogaz")[i % 2]
        for record in template:
            copy = {k: _replaced(v, {TEMPLATE_CALL: f"{prefix}{i}"}) for k, v in record.items()}
            if copy["event"] == "call_arrived":
                copy |= {"line": LINES[org], "organization": org}
            records.append(copy)
    return records


async def write(sessions: async_sessionmaker[AsyncSession], records: list[dict]) -> dict:
    async with unit_of_work(sessions) as session:
        return await apply_records(session, records)


@pytest.mark.usefixtures("region")
async def test_a_batch_of_arrivals_gets_gapless_cards_in_arrival_order(sessions) -> None:
    """30 calls to two organizations in one batch: 30 cards, numbered 1..15 in each in the
    order the calls arrived, each with its create history row and audit entry, each linked."""
    await write(sessions, many_calls(30))
    async with sessions() as session:
        calls = {c.pbx_call_id: c for c in await session.scalars(select(Call))}
        cards = {c.id: c for c in await session.scalars(select(Card))}
        history = list(await session.scalars(select(CardHistory)))
        audit = list(await session.scalars(select(AuditEntry)))
    assert len(calls) == len(cards) == 30
    sequences: dict[str, list[int]] = defaultdict(list)
    for i in range(30):
        card = cards[calls[f"c{i}"].card_id]
        sequences[card.number.split("-")[0]].append(card.sequence)
        assert card.applicant_phone == "79161234567" and card.status == "draft"
    assert sequences == {"TFOMS": list(range(1, 16)), "SOGAZ": list(range(1, 16))}
    assert sorted((h.card_id, h.action, h.changes["call"][1]) for h in history) == sorted(
        (c.card_id, "create", key) for key, c in calls.items()
    )
    assert sorted((a.action, a.object_id) for a in audit) == sorted(
        ("create", str(card_id)) for card_id in cards
    )


async def _statements(engine: AsyncEngine, sessions, records: list[dict]) -> list[str]:
    seen: list[str] = []

    def count(_conn, _cursor, statement, _params, _context, _executemany) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        await write(sessions, records)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)
    return seen


@pytest.mark.postgres
async def test_a_batch_takes_the_same_statements_whatever_its_size(
    pg_only_engine: AsyncEngine, settings: Settings
) -> None:
    """10 calls or 40 in a batch: the same statements (one INSERT of all the cards, one of
    their history rows...), not five more per card; and every read is the very same text,
    which asyncpg prepares once per connection, not once per batch size."""
    sessions = make_sessionmaker(pg_only_engine)
    await sync_region(sessions, settings)
    small = await _statements(pg_only_engine, sessions, many_calls(10, "s"))
    large = await _statements(pg_only_engine, sessions, many_calls(40, "l"))
    assert [" ".join(s.split()[:3]) for s in small] == [" ".join(s.split()[:3]) for s in large]
    reads = [s for s in large if s.startswith("SELECT")]
    assert reads and reads == [s for s in small if s.startswith("SELECT")]
    assert len(large) <= 13, large
    async with sessions() as session:
        assert await session.scalar(select(func.count(Card.id))) == 50


async def _written_by_the_writer(sessions, tmp_path: Path, records: list[dict]) -> WrittenCall:
    writer = CallJournalWriter(
        sessions, apply_records, DurableSpool(tmp_path, "events"),
        DurableSpool(tmp_path, "rejected"), retry_min=0.05, retry_max=0.5, write_timeout=5.0,
    )
    writer.submit_records(records)
    arrival = writer.arrival(records[0]["call_id"])
    assert arrival is not None
    task = asyncio.create_task(writer.run())
    try:
        async with asyncio.timeout(10):
            written = await arrival
        await writer.flushed()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert written is not None
    return written


@pytest.mark.usefixtures("region")
async def test_the_arrival_resolves_with_the_new_card(sessions, tmp_path: Path) -> None:
    """The screen-pop gets the card's columns from the writer, the same as the row."""
    written = await _written_by_the_writer(sessions, tmp_path, records_of(TEMPLATE))
    async with sessions() as session:
        call = await session.scalar(select(Call))
        card = await session.get(Card, call.card_id)
    assert (written.call_id, written.card_id) == (call.id, card.id)
    assert written.card is not None
    assert set(written.card) == {attr.key for attr in inspect(Card).column_attrs}
    assert (written.card["number"], written.card["status"], written.card["applicant_phone"]) == (
        card.number, card.status, card.applicant_phone)
    assert written.card == {attr.key: getattr(card, attr.key) for attr in inspect(Card).column_attrs}


@pytest.mark.usefixtures("region")
async def test_a_call_written_before_has_no_card_columns(sessions) -> None:
    records = records_of(TEMPLATE)
    await write(sessions, records[:1])
    later = await write(sessions, records[1:])
    [(key, written)] = later.items()
    assert key == TEMPLATE_CALL and written.card_id is not None and written.card is None


# ------------------------------------------------------------------ screen-pops


def pop(call_id: str, user_id: int, login: str, at: datetime, card_ids: list[int]) -> dict:
    return {"event": "screen_pop_shown", "call_id": call_id, "at": at.isoformat(),
            "user_id": user_id, "login": login, "interface": "PJSIP/op102", "card_ids": card_ids}


async def _pops(sessions) -> tuple[list[AuditEntry], list[tuple[str, str | None]]]:
    async with sessions() as session:
        audit = list(await session.scalars(
            select(AuditEntry).where(AuditEntry.action == "list").order_by(AuditEntry.id)))
        timeline = (await session.execute(
            select(CallEvent.kind, CallEvent.interface)
            .where(CallEvent.kind == "screen_pop_shown"))).all()
    return audit, [tuple(row) for row in timeline]


@pytest.mark.usefixtures("region")
async def test_screen_pops_are_audited_for_each_user_once(sessions) -> None:
    """Two operators shown the same call's cards at the same moment: two audit entries with
    each one's user and the cards, two timeline rows; a replayed batch adds nothing."""
    people = await make_people(sessions)
    written = await write(sessions, records_of(TEMPLATE)[:1])
    card_id = written[TEMPLATE_CALL].card_id
    at = datetime(2026, 11, 23, 14, 35, 24, tzinfo=UTC)
    pops = [pop(TEMPLATE_CALL, people.tfoms_op.user_id, "tf1", at, [card_id, 7]),
            pop(TEMPLATE_CALL, people.admin.user_id, "admin", at, [card_id])]
    for _ in range(2):
        await write(sessions, pops)
    audit, timeline = await _pops(sessions)
    assert [(a.user_id, a.login, a.object_type, a.object_id, a.details, a.at) for a in audit] == [
        (people.tfoms_op.user_id, "tf1", "card", None,
         {"screen_pop": TEMPLATE_CALL, "card_ids": [card_id, 7]}, at),
        (people.admin.user_id, "admin", "card", None,
         {"screen_pop": TEMPLATE_CALL, "card_ids": [card_id]}, at),
    ]
    assert timeline == [("screen_pop_shown", "PJSIP/op102")] * 2


@pytest.mark.usefixtures("region")
async def test_a_pop_before_its_call_is_in_the_journal(sessions) -> None:
    """The pop's record comes first: it makes the call's row, and the arrival written later
    still gives the call its card. An unknown user's pop is kept under the login sent."""
    at = datetime.now(UTC) - timedelta(minutes=1)
    await write(sessions, [pop(TEMPLATE_CALL, 999_999, "ghost", at, [])])
    await write(sessions, records_of(TEMPLATE))
    async with sessions() as session:
        call = await session.scalar(select(Call))
        cards = await session.scalar(select(func.count(Card.id)))
    assert call.card_id is not None and cards == 1
    assert (call.line_number, call.outcome) == (LINES["tfoms"], "answered")
    audit, timeline = await _pops(sessions)
    assert [(a.user_id, a.login) for a in audit] == [(None, "ghost")]
    assert timeline == [("screen_pop_shown", "PJSIP/op102")]


@pytest.mark.usefixtures("region")
async def test_a_backlog_goes_in_bigger_batches_and_live_records_in_small_ones(
    sessions, tmp_path: Path
) -> None:
    """The PBX's events came faster than the journal took them: the backlog is written four
    usual batches at a time (fewer transactions) while more than twenty wait, then in usual
    batches; a call that comes alone is written at once in a batch of its own; every call
    gets its card either way."""
    sizes: list[int] = []

    async def apply(session: AsyncSession, records):
        sizes.append(len(records))
        return await apply_records(session, records)

    writer = CallJournalWriter(
        sessions, apply, DurableSpool(tmp_path, "events"), DurableSpool(tmp_path, "rejected"),
        batch_size=10, batch_arrivals=10, write_timeout=10.0,
    )
    backlog = many_calls(40, "b")
    writer.submit_records(backlog)  # more than twenty usual batches wait
    task = asyncio.create_task(writer.run())
    try:
        await writer.flushed(timeout=30)
        live = many_calls(1, "l")
        writer.submit_records(live)
        await writer.flushed(timeout=10)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert sizes[0] == 40 and max(sizes) == 40
    assert sizes[-1] == len(live) < 10
    assert sum(sizes) == len(backlog) + len(live)
    async with sessions() as session:
        assert await session.scalar(select(func.count(Card.id))) == 41
