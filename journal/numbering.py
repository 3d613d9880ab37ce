"""Readable card numbers (номер РКК), per receiving organization and year, without gaps.

A number looks like "SOGAZ-2026-000123": the organization's code, the year of registration
and the sequence within that organization and year.

The sequences come from `card_number_counters` by one upsert that adds the count taken to
each organization's row and returns the new last values, so a batch of cards takes its
numbers in one statement, whatever organizations they are of. The upsert row-locks the
counters (PostgreSQL) or takes the database write lock (SQLite) until the cards' own
transaction ends, so concurrent registrations queue behind each other, and cards whose transaction rolls back give their numbers back: no gaps and no
duplicates. The price is that registrations in one organization are serialised for the length
of the registering transaction, so keep that transaction short.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from journal.errors import NotFound
from journal.models import CardNumberCounter, Organization

SEQUENCE_DIGITS = 6


@dataclass(frozen=True, slots=True)
class CardNumber:
    """A taken number: its text and the parts it is made of."""

    number: str
    year: int
    sequence: int


def format_card_number(organization_code: str, year: int, sequence: int) -> str:
    """"SOGAZ-2026-000123"; sequences past 999999 simply get more digits."""
    return f"{organization_code.upper()}-{year:04d}-{sequence:0{SEQUENCE_DIGITS}d}"


async def take_sequences(
    session: AsyncSession, organization_id: int, year: int, count: int = 1
) -> range:
    """Take `count` consecutive sequences of an organization and year in one upsert, inside
    the caller's transaction."""
    return (await _take_sequences_of(session, year, {organization_id: count}))[organization_id]


async def _take_sequences_of(
    session: AsyncSession, year: int, counts: Mapping[int, int]
) -> dict[int, range]:
    """The sequences of several organizations at once: one upsert of one row each, in id
    order (two batches that both take numbers of two organizations lock the counters in the
    same order and cannot deadlock)."""
    if not counts or min(counts.values()) < 1:
        raise ValueError(f"cannot take {dict(counts)} card numbers")
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = CardNumberCounter.__table__
    upsert = insert(CardNumberCounter).values([
        {"organization_id": org_id, "year": year, "last": counts[org_id]}
        for org_id in sorted(counts)
    ])
    stmt = upsert.on_conflict_do_update(
        index_elements=[table.c.organization_id, table.c.year],
        set_={"last": table.c.last + upsert.excluded.last},
    ).returning(table.c.organization_id, table.c.last)
    last = {org_id: int(value) for org_id, value in await session.execute(stmt)}
    return {org_id: range(last[org_id] - count + 1, last[org_id] + 1)
            for org_id, count in counts.items()}


async def take_card_numbers(
    session: AsyncSession, organization_id: int, year: int, count: int
) -> list[CardNumber]:
    """The next `count` card numbers of the receiving organization for `year`, in order.

    Must run inside the transaction that inserts the cards: committing them commits the
    numbers, rolling back returns them all.
    """
    return (await take_card_numbers_of(session, year, {organization_id: count}))[organization_id]


async def take_card_numbers_of(
    session: AsyncSession, year: int, counts: Mapping[int, int]
) -> dict[int, list[CardNumber]]:
    """`take_card_numbers` for several organizations in one statement: each organization's
    next `counts[organization]` numbers."""
    codes = {}
    for organization_id in counts:
        # `get` answers from the session when the organization is loaded already (no query).
        organization = await session.get(Organization, organization_id)
        if organization is None:
            raise NotFound("Организация не найдена", organization_id=organization_id)
        codes[organization_id] = organization.code
    taken = await _take_sequences_of(session, year, counts)
    return {
        org_id: [CardNumber(format_card_number(codes[org_id], year, sequence), year, sequence)
                 for sequence in sequences]
        for org_id, sequences in taken.items()
    }


async def take_card_number(session: AsyncSession, organization_id: int, year: int) -> CardNumber:
    """The next card number of the receiving organization for `year` (see `take_card_numbers`)."""
    [number] = await take_card_numbers(session, organization_id, year, 1)
    return number
