"""The region's register of insured persons (РС ЕРЗЛ extract): lookup by ЕНП and loading.

Personal data, so it follows the cards' rules: only roles that read cards may look a person up,
and every lookup is audited in the caller's transaction (`register_lookup`, with the ЕНП and
whether it was found), as a card view is. Nothing of it goes to the PBX.

The lookup sits behind `RegisterSource`: today the journal's own table, filled from a file by
`hotline register load`; a regional web service can replace it later with the same `find`.
Loading replaces the whole table atomically: a new table is filled, then swapped in for the
old one in the same transaction, so a lookup sees either the old extract or the new one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Protocol

from sqlalchemy import Column, MetaData, PrimaryKeyConstraint, Table, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from journal import audit, enp
from journal.access import reads_cards
from journal.actors import Actor
from journal.errors import Forbidden, InvalidInput
from journal.models import InsuredPerson, RegisterLoad
from journal.clock import utc_now

LOOKUP_ACTION = "register_lookup"
LOAD_ACTION = "register_load"
_NEW = "insured_persons_new"
_BATCH = 1000


@dataclass(frozen=True, slots=True)
class Insured:
    """A person as the register knows them."""

    enp: str
    full_name: str
    birth_date: date | None
    insurer_code: str
    policy_from: date | None = None
    policy_to: date | None = None

    def json(self) -> dict[str, object]:
        out = asdict(self)
        for key in ("birth_date", "policy_from", "policy_to"):
            value = out[key]
            out[key] = value.isoformat() if value else None
        return out


class RegisterSource(Protocol):
    """Where persons are found by ЕНП: the journal's table, or later a regional service."""

    async def find(self, session: AsyncSession, enp_number: str) -> Insured | None: ...


class TableRegister:
    """The extract loaded into the journal's database (`insured_persons`)."""

    async def find(self, session: AsyncSession, enp_number: str) -> Insured | None:
        row = await session.get(InsuredPerson, enp_number)
        if row is None:
            return None
        return Insured(row.enp, row.full_name, row.birth_date, row.insurer_code,
                       row.policy_from, row.policy_to)


async def lookup(
    session: AsyncSession, actor: Actor, number: str, *,
    source: RegisterSource | None = None, card_id: int | None = None,
) -> Insured | None:
    """The person with this ЕНП (None: not in the register), audited; a typed number that
    fails its control digit is refused (422), a role that reads no cards too (403)."""
    if not reads_cards(actor):
        await audit.record(session, actor, audit.AuditAction.DENIED, "register", None,
                           {"action": LOOKUP_ACTION})
        raise Forbidden("Вашей роли не доступен регистр застрахованных: в нём персональные данные")
    reason = enp.problem(number)
    if reason is not None:
        raise InvalidInput(reason, field="enp")
    digits = enp.normalize(number)
    person = await (source or TableRegister()).find(session, digits)
    await audit.record(session, actor, LOOKUP_ACTION, "insured_person", digits,
                       {"found": person is not None, "card_id": card_id})
    return person


@dataclass(frozen=True, slots=True)
class LoadSummary:
    persons: int
    skipped: int
    replaced: int  # how many persons the previous extract had


def _new_table() -> Table:
    columns = [Column(c.name, c.type, nullable=c.nullable) for c in InsuredPerson.__table__.columns]
    return Table(_NEW, MetaData(), *columns, PrimaryKeyConstraint("enp", name=f"pk_{_NEW}"))


async def replace(
    session: AsyncSession, persons: Sequence[Insured], *, source: str, loaded_by: str,
    skipped: int = 0, actor: Actor | None = None,
) -> LoadSummary:
    """Put `persons` in place of the whole register, in the caller's transaction.

    The new table is filled first; the old one is dropped and the new one renamed in its
    place (PostgreSQL: DDL is transactional, readers keep the old rows until commit)."""
    if not persons:
        raise InvalidInput("В выгрузке нет ни одного застрахованного: регистр не заменён")
    conn = await session.connection()
    new = _new_table()
    await conn.run_sync(lambda sync: new.drop(sync, checkfirst=True))
    await conn.run_sync(lambda sync: new.create(sync))
    rows = [{"enp": p.enp, "full_name": p.full_name, "birth_date": p.birth_date,
             "insurer_code": p.insurer_code, "policy_from": p.policy_from,
             "policy_to": p.policy_to} for p in persons]
    for start in range(0, len(rows), _BATCH):
        await conn.execute(insert(new), rows[start:start + _BATCH])
    before = await session.scalar(text("SELECT count(*) FROM insured_persons")) or 0
    await conn.execute(text("DROP TABLE insured_persons"))
    await conn.execute(text(f"ALTER TABLE {_NEW} RENAME TO insured_persons"))
    if conn.dialect.name == "postgresql":
        await conn.execute(text(f"ALTER INDEX pk_{_NEW} RENAME TO pk_insured_persons"))
    session.expunge_all()
    session.add(RegisterLoad(loaded_at=utc_now(), source=source[-300:], loaded_by=loaded_by,
                             persons=len(persons), skipped=skipped))
    if actor is not None:
        await audit.record(session, actor, LOAD_ACTION, "register", None,
                           {"source": source[-300:], "persons": len(persons),
                            "skipped": skipped, "replaced": before})
    return LoadSummary(len(persons), skipped, int(before))


async def last_load(session: AsyncSession) -> RegisterLoad | None:
    """The latest load (what extract the lookups answer from), or None before the first."""
    return await session.scalar(select(RegisterLoad).order_by(RegisterLoad.id.desc()).limit(1))


def as_of(load: RegisterLoad | None) -> datetime | None:
    return load.loaded_at if load is not None else None
