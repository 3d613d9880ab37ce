"""Readable card numbers (номер РКК), per receiving organization and year, without gaps.

A number looks like "SOGAZ-2026-000123": the organization's code, the year of registration
and the sequence within that organization and year.

The sequences come from `card_number_counters` by one upsert that adds the count taken to
the row and returns the new last value, so a batch of cards takes its numbers in one
statement. The upsert row-locks the counter (PostgreSQL) or takes the database write lock
(SQLite) until the cards' own transaction ends, so concurrent registrations queue behind each
other, and cards whose transaction rolls back give their numbers back: no gaps and no
duplicates. The price is that registrations in one organization are serialised for the length
of the registering transaction, so keep that transaction short.
"""

from __future__ import annotations

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
    if count < 1:
        raise ValueError(f"cannot take {count} card numbers")
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = CardNumberCounter.__table__
    stmt = (
        insert(CardNumberCounter)
        .values(organization_id=organization_id, year=year, last=count)
        .on_conflict_do_update(
            index_elements=[table.c.organization_id, table.c.year],
            set_={"last": table.c.last + count},
        )
        .returning(table.c.last)
    )
    last = int((await session.execute(stmt)).scalar_one())
    return range(last - count + 1, last + 1)


async def take_card_numbers(
    session: AsyncSession, organization_id: int, year: int, count: int
) -> list[CardNumber]:
    """The next `count` card numbers of the receiving organization for `year`, in order.

    Must run inside the transaction that inserts the cards: committing them commits the
    numbers, rolling back returns them all.
    """
    # `get` answers from the session when the organization is loaded already (no query).
    organization = await session.get(Organization, organization_id)
    if organization is None:
        raise NotFound("Организация не найдена", organization_id=organization_id)
    sequences = await take_sequences(session, organization_id, year, count)
    return [
        CardNumber(format_card_number(organization.code, year, sequence), year, sequence)
        for sequence in sequences
    ]


async def take_card_number(session: AsyncSession, organization_id: int, year: int) -> CardNumber:
    """The next card number of the receiving organization for `year` (see `take_card_numbers`)."""
    [number] = await take_card_numbers(session, organization_id, year, 1)
    return number
