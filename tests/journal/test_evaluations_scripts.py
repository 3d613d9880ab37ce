"""Evaluation sheets and answer scripts in the journal, on PostgreSQL and SQLite: who may
write and read them, how a sheet's total is counted, that every write is audited."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from journal.db import unit_of_work
from journal.errors import Forbidden, InvalidInput, NotFound
from journal.evaluations import Criterion, create_evaluation, list_evaluations, total_of
from journal.models import AuditEntry, Call
from journal.scripts import create_script, get_script_for, list_scripts, update_script
from tests.support.journal import MakeCard, People

CRITERIA = (Criterion("greeting", "Приветствие", 2), Criterion("accuracy", "Точность ответа", 5))


def test_the_total_is_the_share_of_the_maximum_in_percent() -> None:
    assert total_of({"greeting": 2, "accuracy": 5}, CRITERIA) == 100.0
    assert total_of({"greeting": 1, "accuracy": 2}, CRITERIA) == 42.9
    assert total_of({"greeting": 0, "accuracy": 0}, CRITERIA) == 0.0


async def _call(sessions, people: People, call_card: MakeCard, org: str = "sogaz") -> int:
    card = await call_card(org)
    operator = people.sogaz_op if org == "sogaz" else people.tfoms_op
    async with unit_of_work(sessions) as session:
        call = await session.scalar(select(Call).where(Call.card_id == card.id))
        call.answered_by_id = operator.user_id
        call.outcome = "answered"
        return call.id


async def test_only_the_admin_evaluates_and_operators_read_their_own_sheets(
    sessions, people: People, call_card: MakeCard
) -> None:
    call_id = await _call(sessions, people, call_card)
    async with unit_of_work(sessions) as session:
        with pytest.raises(Forbidden):
            await create_evaluation(session, people.sogaz_op, call_id,
                                    scores={"greeting": 2, "accuracy": 5}, criteria=CRITERIA)
    async with unit_of_work(sessions) as session:
        with pytest.raises(InvalidInput, match="Оцените: «Точность ответа»"):
            await create_evaluation(session, people.admin, call_id, scores={"greeting": 2},
                                    criteria=CRITERIA)
    async with unit_of_work(sessions) as session:
        with pytest.raises(InvalidInput, match="Нет такого критерия"):
            await create_evaluation(session, people.admin, call_id, criteria=CRITERIA,
                                    scores={"greeting": 2, "accuracy": 5, "speed": 1})
    async with unit_of_work(sessions) as session:
        with pytest.raises(NotFound):
            await create_evaluation(session, people.admin, call_id + 999,
                                    scores={"greeting": 2, "accuracy": 5}, criteria=CRITERIA)
    async with unit_of_work(sessions) as session:
        sheet = await create_evaluation(session, people.admin, call_id, criteria=CRITERIA,
                                        scores={"greeting": 1, "accuracy": "4"}, comment="ok",
                                        now=datetime.now(UTC))
        assert sheet.operator_id == people.sogaz_op.user_id and sheet.total == 71.4
    async with sessions() as session:
        assert [e.id for e in await list_evaluations(session, people.sogaz_op)] == [sheet.id]
        assert await list_evaluations(session, people.sogaz_op2) == []
        assert await list_evaluations(session, people.tfoms_op) == []
        assert {s.criterion: s.score for s in (await list_evaluations(session, people.admin))[0].scores} \
            == {"greeting": 1, "accuracy": 4}
        audit = await session.scalar(select(AuditEntry).where(AuditEntry.action == "evaluate"))
        assert audit.login == "admin" and audit.details["call_id"] == call_id


async def test_scripts_are_written_by_the_admin_and_withdrawn_never_deleted(
    sessions, people: People, region: None
) -> None:
    async with unit_of_work(sessions) as session:
        common = await create_script(session, people.admin, {
            "title": "Полис ОМС", "keywords": "полис ЕНП", "body": "Полис выдаёт СМО."})
        own = await create_script(session, people.admin, {
            "title": "Смена СМО", "body": "До 1 ноября.", "organization_id": people.orgs["sogaz"]})
    async with unit_of_work(sessions) as session:
        with pytest.raises(Forbidden):
            await create_script(session, people.sogaz_op, {"title": "x", "body": "y"})
    async with unit_of_work(sessions) as session:
        with pytest.raises(InvalidInput, match="Заполните «Название»"):
            await update_script(session, people.admin, common.id, {"title": "  "})
    async with sessions() as session:
        assert [s.id for s in await list_scripts(session, people.sogaz_op)] == [common.id, own.id]
        assert [s.id for s in await list_scripts(session, people.kapital_op)] == [common.id]
        assert [s.id for s in await list_scripts(session, people.sogaz_op, q="ЕНП полис")] == [common.id]
        assert await list_scripts(session, people.sysadmin) == []
    async with unit_of_work(sessions) as session:
        await update_script(session, people.admin, common.id, {"active": False})
    async with sessions() as session:
        assert [s.id for s in await list_scripts(session, people.sogaz_op)] == [own.id]
        assert len(await list_scripts(session, people.admin)) == 2
        with pytest.raises(NotFound):
            await get_script_for(session, people.kapital_op, own.id)
