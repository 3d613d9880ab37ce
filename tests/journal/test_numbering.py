"""Card numbers: readable, per receiving organization and year, no gaps, no duplicates."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from journal import cards
from journal.cards import CardRules
from journal.db import unit_of_work
from journal.deadlines import DeadlinePolicy
from journal.models import Card, CardNumberCounter
from journal.numbering import (
    format_card_number, take_card_number, take_card_numbers, take_card_numbers_of,
)
from tests.support.journal import People, recently


class Boom(Exception):
    """Raised inside a transaction to roll it back on purpose."""


def test_number_format_is_readable() -> None:
    assert format_card_number("sogaz", 2026, 123) == "SOGAZ-2026-000123"
    assert format_card_number("tfoms", 2026, 1_234_567) == "TFOMS-2026-1234567"


async def test_numbers_run_per_organization_and_restart_each_year(sessions, people: People) -> None:
    async with unit_of_work(sessions) as session:
        taken = [
            await take_card_number(session, people.orgs["sogaz"], 2026),
            await take_card_number(session, people.orgs["sogaz"], 2026),
            await take_card_number(session, people.orgs["tfoms"], 2026),
            await take_card_number(session, people.orgs["sogaz"], 2027),
        ]
    assert [t.number for t in taken] == [
        "SOGAZ-2026-000001", "SOGAZ-2026-000002", "TFOMS-2026-000001", "SOGAZ-2027-000001",
    ]
    assert (taken[1].year, taken[1].sequence) == (2026, 2)


async def test_a_bulk_takes_consecutive_numbers_after_the_existing_ones(
    sessions, people: People
) -> None:
    """Five numbers in one upsert follow the ones taken singly, in order, and the next single
    one follows them."""
    sogaz = people.orgs["sogaz"]
    async with unit_of_work(sessions) as session:
        singles = [await take_card_number(session, sogaz, 2026) for _ in range(2)]
        bulk = await take_card_numbers(session, sogaz, 2026, 5)
        after = await take_card_number(session, sogaz, 2026)
    assert [n.sequence for n in singles + bulk + [after]] == list(range(1, 9))
    assert [n.number for n in bulk] == [f"SOGAZ-2026-00000{i}" for i in range(3, 8)]
    assert {n.year for n in bulk} == {2026}


async def test_several_organizations_take_their_numbers_in_one_go(sessions, people: People) -> None:
    """A batch of arrivals for several insurers: each continues its own sequence, one of
    them starting the year."""
    sogaz, tfoms = people.orgs["sogaz"], people.orgs["tfoms"]
    async with unit_of_work(sessions) as session:
        await take_card_numbers(session, sogaz, 2026, 2)
        taken = await take_card_numbers_of(session, 2026, {tfoms: 1, sogaz: 3})
        after = await take_card_number(session, sogaz, 2026)
    assert [n.number for n in taken[sogaz]] == [f"SOGAZ-2026-00000{i}" for i in (3, 4, 5)]
    assert [n.number for n in taken[tfoms]] == ["TFOMS-2026-000001"]
    assert after.number == "SOGAZ-2026-000006"


async def test_a_first_bulk_of_a_year_starts_at_one(sessions, people: People) -> None:
    async with unit_of_work(sessions) as session:
        bulk = await take_card_numbers(session, people.orgs["tfoms"], 2027, 3)
    assert [n.number for n in bulk] == [f"TFOMS-2027-00000{i}" for i in (1, 2, 3)]


async def test_a_rolled_back_bulk_gives_its_numbers_back(sessions, people: People) -> None:
    sogaz = people.orgs["sogaz"]
    async with unit_of_work(sessions) as session:
        await take_card_numbers(session, sogaz, 2026, 2)
    with pytest.raises(Boom):
        async with unit_of_work(sessions) as session:
            await take_card_numbers(session, sogaz, 2026, 5)
            raise Boom
    async with unit_of_work(sessions) as session:
        again = await take_card_numbers(session, sogaz, 2026, 5)
    assert [n.sequence for n in again] == [3, 4, 5, 6, 7]
    async with sessions() as session:
        counter = await session.scalar(select(CardNumberCounter))
    assert counter.last == 7


async def test_taking_no_numbers_is_a_programming_error(sessions, people: People) -> None:
    async with sessions() as session:
        with pytest.raises(ValueError):
            await take_card_numbers(session, people.orgs["sogaz"], 2026, 0)


async def test_a_rolled_back_card_gives_its_number_back(sessions, people: People) -> None:
    """The number is taken in the card's own transaction, so a failure leaves no gap."""
    first = await _create(sessions, people)
    with pytest.raises(Boom):
        async with unit_of_work(sessions) as session:
            await cards.create_written(
                session, people.sogaz_op, channel="post", received_at=recently()
            )
            raise Boom
    second = await _create(sessions, people)
    assert (first.sequence, second.sequence) == (1, 2)
    async with sessions() as session:
        counter = await session.scalar(select(CardNumberCounter))
    assert counter.last == 2


async def test_the_year_is_the_registration_year_in_the_region(sessions, people: People) -> None:
    """Registered at 23:30 UTC on 31.12.2025 = 06:30 on 01.01.2026 in Barnaul."""
    moment = datetime(2025, 12, 31, 23, 30, tzinfo=UTC)
    rules = CardRules(DeadlinePolicy(zone=ZoneInfo("Asia/Barnaul")), clock=lambda: moment)
    async with unit_of_work(sessions) as session:
        card = await cards.create_written(
            session, people.sogaz_op, channel="post", received_at=moment, rules=rules
        )
    assert (card.number, card.year) == ("SOGAZ-2026-000001", 2026)


async def _create(sessions, people: People, actor=None) -> Card:
    async with unit_of_work(sessions) as session:
        return await cards.create_written(
            session, actor or people.sogaz_op, channel="post", received_at=recently()
        )


@pytest.mark.postgres
async def test_concurrent_registration_gives_gapless_unique_numbers(pg_sessions, pg_people) -> None:
    """200 cards by 50 concurrent tasks in 2 organizations, some rolled back: 1..N each."""
    sessions, people = pg_sessions, pg_people
    operators = [people.sogaz_op, people.kapital_op]

    async def worker(n: int) -> list[tuple[int, int]]:
        made: list[tuple[int, int]] = []
        for i in range(4):
            try:
                async with unit_of_work(sessions) as session:
                    card = await cards.create_written(
                        session, operators[(n + i) % 2], channel="email", received_at=recently()
                    )
                    if (n * 4 + i) % 7 == 0:
                        raise Boom  # this card and its number roll back
                made.append((card.receiving_organization_id, card.sequence))
            except Boom:
                pass
            await asyncio.sleep(0)
        return made

    results = await asyncio.gather(*(worker(n) for n in range(50)))
    committed = sorted(pair for chunk in results for pair in chunk)
    async with sessions() as session:
        rows = (await session.execute(select(Card.receiving_organization_id, Card.sequence, Card.number))).all()
    assert len(committed) == 200 - len(range(0, 200, 7))
    assert sorted((org, seq) for org, seq, _ in rows) == committed
    by_org: dict[int, list[int]] = defaultdict(list)
    for org_id, sequence, _number in rows:
        by_org[org_id].append(sequence)
    assert set(by_org) == {people.orgs["sogaz"], people.orgs["kapital"]}
    for sequences in by_org.values():
        assert sorted(sequences) == list(range(1, len(sequences) + 1))
    assert len({number for _org, _seq, number in rows}) == len(rows)
