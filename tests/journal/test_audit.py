"""The access log: written in the caller's transaction, read by the administrator only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from journal import audit, cards
from journal.audit import AppendOnlyError, AuditFilter, query_audit
from journal.db import unit_of_work
from journal.errors import Forbidden, InvalidInput, NotFound
from journal.models import AuditEntry, CardHistory
from tests.support.journal import MakeCard, People, audit_rows, count, history_rows

T0 = datetime(2026, 5, 12, 9, 0, tzinfo=UTC)


class Boom(Exception):
    pass


async def test_an_entry_commits_or_rolls_back_with_the_caller_s_transaction(sessions, people: People) -> None:
    with pytest.raises(Boom):
        async with unit_of_work(sessions) as session:
            await audit.record(session, people.admin, "export", "report", "pg-2026", {"rows": 10})
            raise Boom
    assert await count(sessions, AuditEntry) == 0
    async with unit_of_work(sessions) as session:
        await audit.record(session, people.admin, "export", "report", "pg-2026", {"rows": 10})
    [entry] = await audit_rows(sessions)
    assert (entry.user_id, entry.login, entry.action) == (people.admin.user_id, "admin", "export")
    assert (entry.object_type, entry.object_id, entry.details) == ("report", "pg-2026", {"rows": 10})
    assert entry.remote_addr == "10.0.0.1"
    assert entry.at.tzinfo is not None


async def test_a_refused_change_leaves_neither_history_nor_audit(
    sessions, people: People, call_card: MakeCard
) -> None:
    card = await call_card("sogaz")
    before = await count(sessions, AuditEntry)
    with pytest.raises(InvalidInput):
        async with unit_of_work(sessions) as session:
            await cards.read_card(session, people.sogaz_op, card.id)
            await cards.save(session, people.sogaz_op, card.id, {"applicant_policy": "1"}, card.version)
    with pytest.raises(NotFound):
        async with unit_of_work(sessions) as session:
            await cards.save(session, people.kapital_op, card.id, {"content": "x"}, card.version)
    assert await count(sessions, AuditEntry) == before


async def _seed(sessions, people: People) -> None:
    async with unit_of_work(sessions) as session:
        for minutes, actor, action, obj in [
            (0, people.sogaz_op, "view", "1"),
            (10, people.sogaz_op, "save", "1"),
            (20, people.kapital_op, "view", "2"),
            (30, people.admin, "playback", "7"),
            (40, people.sogaz_op, "view", "3"),
        ]:
            obj_type = "recording" if action == "playback" else "card"
            await audit.record(session, actor, action, obj_type, obj, {},
                               at=T0 + timedelta(minutes=minutes))


async def test_the_administrator_filters_the_log(sessions, people: People) -> None:
    await _seed(sessions, people)

    async def logins(**flt) -> list[tuple[str, str]]:
        async with sessions() as session:
            page = await query_audit(session, people.admin, AuditFilter(**flt))
        return [(e.login, e.action) for e in page.entries]

    assert await logins() == [("sg1", "view"), ("admin", "playback"), ("kp1", "view"),
                              ("sg1", "save"), ("sg1", "view")]
    assert await logins(user_id=people.kapital_op.user_id) == [("kp1", "view")]
    assert await logins(login="sg1", actions=["save"]) == [("sg1", "save")]
    assert await logins(object_type="recording", object_id=7) == [("admin", "playback")]
    assert await logins(object_type="card", object_id="1") == [("sg1", "save"), ("sg1", "view")]
    window = dict(since=T0 + timedelta(minutes=10), until=T0 + timedelta(minutes=30))
    assert await logins(**window) == [("kp1", "view"), ("sg1", "save")]
    async with sessions() as session:
        page = await query_audit(session, people.admin, offset=1, limit=2)
    assert (page.total, [e.login for e in page.entries]) == (5, ["admin", "kp1"])


@pytest.mark.parametrize("who", ["sogaz_op", "tfoms_op", "sysadmin", "system"])
async def test_only_the_administrator_reads_the_log(sessions, people: People, who: str) -> None:
    await _seed(sessions, people)
    async with sessions() as session:
        with pytest.raises(Forbidden):
            await query_audit(session, getattr(people, who))


async def test_bad_paging_is_refused(sessions, people: People) -> None:
    async with sessions() as session:
        with pytest.raises(InvalidInput):
            await query_audit(session, people.admin, limit=0)
        with pytest.raises(InvalidInput):
            await query_audit(session, people.admin, offset=-1)


async def test_every_lifecycle_step_is_audited_once(sessions, people: People, call_card: MakeCard) -> None:
    card = await call_card("sogaz")
    later = datetime.now(UTC) + timedelta(hours=1)
    async with unit_of_work(sessions) as session:
        card = await cards.save(session, people.sogaz_op, card.id, {"content": "x"}, card.version)
        await cards.defer(session, people.sogaz_op, card.id, contact_phone="+79130000000",
                          callback_due_at=later)
        await cards.extend(session, people.sogaz_op, card.id, new_due=card.due_date + timedelta(days=10),
                           reason="Запрос в МО")
        await cards.forward(session, people.sogaz_op, card.id, to_organization="tfoms", reason="ТФОМС")
    async with unit_of_work(sessions) as session:
        card = await cards.complete(session, people.tfoms_op, card.id,
                                    expected_version=(await session.get(type(card), card.id)).version,
                                    changes={"measures_taken": "Дан ответ",
                                             "appeal_type": "consultation", "topic_code": "4.1",
                                             "applicant_name": "Петров Пётр Петрович"})
        await cards.close(session, people.admin, card.id)
    entries = await audit_rows(sessions, card.id)
    assert [e.action for e in entries] == [
        "create", "save", "defer", "extend", "forward", "complete", "close"
    ]
    assert entries[4].details["to"] == "tfoms"
    assert all(e.details["number"] == card.number for e in entries)


async def test_audit_and_history_rows_cannot_be_rewritten(
    sessions, people: People, call_card: MakeCard
) -> None:
    """Both logs are append-only: the ORM refuses an update or a delete of a row."""
    card = await call_card("sogaz")
    for model in (AuditEntry, CardHistory):
        for rewrite in ("update", "delete"):
            with pytest.raises(AppendOnlyError):
                async with unit_of_work(sessions) as session:
                    row = await session.scalar(select(model).where(model.id.is_not(None)))
                    if rewrite == "update" and model is CardHistory:
                        row.comment = "подправлено"
                    elif rewrite == "update":
                        row.login = "someone-else"
                    else:
                        await session.delete(row)
    [created] = await history_rows(sessions, card.id)
    assert created.comment is None
    assert [e.login for e in await audit_rows(sessions, card.id)] == ["system:pbx"]


@pytest.mark.parametrize("backend_engine", ["pg"], indirect=True)
async def test_the_database_itself_refuses_to_rewrite_audit_and_history(
    engine, people: People, call_card: MakeCard
) -> None:
    """Past the ORM (plain SQL, as a console session would do it) PostgreSQL refuses any
    UPDATE or DELETE of the audit log and the card history; inserting still works."""
    await call_card("sogaz")
    for statement in ("UPDATE audit_log SET login = 'someone-else'",
                      "DELETE FROM audit_log",
                      "UPDATE card_history SET comment = 'подправлено'",
                      "DELETE FROM card_history"):
        with pytest.raises(DBAPIError, match="append-only table"):
            async with engine.begin() as conn:
                await conn.execute(text(statement))
    async with engine.connect() as conn:
        logins = (await conn.execute(text("SELECT login FROM audit_log"))).scalars().all()
        comments = (await conn.execute(text("SELECT comment FROM card_history"))).scalars().all()
    assert logins == ["system:pbx"] and comments == [None]
