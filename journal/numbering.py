"""Readable card numbers (номер РКК), per receiving organization and year, without gaps.

A number looks like "SOGAZ-2026-000123": the organization's code, the year of registration
and the sequence within that organization and year.

The sequence comes from `card_number_counters` by one upsert that increments the row and
returns the new value. The upsert row-locks the counter (PostgreSQL) or takes the database
write lock (SQLite) until the card's own transaction ends, so concurrent registrations queue
behind each other, and a card whose transaction rolls back gives its number back: no gaps and
no duplicates. The price is that registrations in one organization are serialised for the
length of the registering transaction, so keep that transaction short.
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


async def next_sequence(session: AsyncSession, organization_id: int, year: int) -> int:
    """Take the next sequence of an organization and year inside the caller's transaction."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = CardNumberCounter.__table__
    stmt = (
        insert(table)
        .values(organization_id=organization_id, year=year, last=1)
        .on_conflict_do_update(
            index_elements=[table.c.organization_id, table.c.year],
            set_={"last": table.c.last + 1},
        )
        .returning(table.c.last)
    )
    sequence = (await session.execute(stmt)).scalar_one()
    return int(sequence)


async def take_card_number(session: AsyncSession, organization_id: int, year: int) -> CardNumber:
    """The next card number of the receiving organization for `year`.

    Must run inside the transaction that inserts the card: committing the card commits the
    number, rolling it back returns the number.
    """
    # `get` answers from the session when the organization is loaded already (no query).
    organization = await session.get(Organization, organization_id)
    if organization is None:
        raise NotFound("Организация не найдена", organization_id=organization_id)
    sequence = await next_sequence(session, organization_id, year)
    return CardNumber(format_card_number(organization.code, year, sequence), year, sequence)
