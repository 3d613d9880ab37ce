"""Closed is closed everywhere (issue 16): the database itself refuses to change or remove a
closed card, and a card that is done or closed settles its waiting callbacks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from journal import cards
from journal.db import unit_of_work
from journal.models import CallbackTask, Card
from tests.support.journal import MakeCard, People, history_rows

DONE = {"appeal_type": "consultation", "topic_code": "4.1", "content": "Вопрос о полисе",
        "applicant_name": "Петров Пётр Петрович", "measures_taken": "Разъяснено"}


async def _deferred(sessions, people: People, call_card: MakeCard) -> Card:
    """A card in work with a pending callback."""
    card = await call_card("sogaz")
    async with unit_of_work(sessions) as session:
        await cards.defer(session, people.sogaz_op, card.id, contact_phone="+79130000001",
                          callback_due_at=datetime.now(UTC) + timedelta(hours=2))
    async with sessions() as session:
        return await session.get(Card, card.id)


async def _statuses(sessions, card_id: int) -> list[str]:
    async with sessions() as session:
        return list(await session.scalars(
            select(CallbackTask.status).where(CallbackTask.card_id == card_id)))


async def test_done_cancels_the_cards_waiting_callback_and_says_so(
    sessions, people: People, call_card: MakeCard
) -> None:
    card = await _deferred(sessions, people, call_card)
    assert await _statuses(sessions, card.id) == ["pending"]
    async with unit_of_work(sessions) as session:
        assert await cards.open_callbacks(session, card.id) == 1
        await cards.complete(session, people.sogaz_op, card.id, expected_version=card.version,
                             changes=DONE)
    assert await _statuses(sessions, card.id) == ["cancelled"]
    last = (await history_rows(sessions, card.id))[-1]
    assert last.action == "complete" and last.comment == "Ожидавший обратный звонок отменён"


async def test_closing_cancels_a_callback_left_on_a_done_card(
    sessions, people: People, call_card: MakeCard
) -> None:
    card = await call_card("sogaz")
    async with unit_of_work(sessions) as session:
        done = await cards.complete(session, people.sogaz_op, card.id,
                                    expected_version=card.version, changes=DONE)
        # A secretary message about the same matter after it was done.
        session.add(CallbackTask(card_id=card.id, organization_id=done.organization_id,
                                 status="pending", attempts=0, contact_phone="+79130000001",
                                 due_at=datetime.now(UTC), created_at=datetime.now(UTC)))
    async with unit_of_work(sessions) as session:
        await cards.close(session, people.admin, card.id)
    assert await _statuses(sessions, card.id) == ["cancelled"]


@pytest.mark.parametrize("backend_engine", ["pg"], indirect=True)
async def test_the_database_itself_refuses_to_change_a_closed_card(
    engine, sessions, people: People, call_card: MakeCard
) -> None:
    """Past the lifecycle (plain SQL, as a console session would) PostgreSQL refuses any
    UPDATE or DELETE of a closed card; an open card is still changed, and closing passes."""
    open_card = await call_card("sogaz")
    card = await call_card("sogaz")
    async with unit_of_work(sessions) as session:
        await cards.complete(session, people.sogaz_op, card.id, expected_version=card.version,
                             changes=DONE)
        await cards.close(session, people.admin, card.id)
    for statement in (f"UPDATE cards SET content = 'подправлено' WHERE id = {card.id}",
                      f"UPDATE cards SET status = 'in_work' WHERE id = {card.id}",
                      f"DELETE FROM cards WHERE id = {card.id}"):
        with pytest.raises(DBAPIError, match="closed card"):
            async with engine.begin() as conn:
                await conn.execute(text(statement))
    async with engine.begin() as conn:
        await conn.execute(text(f"UPDATE cards SET content = 'ok' WHERE id = {open_card.id}"))
        row = (await conn.execute(text(f"SELECT status, content FROM cards WHERE id = {card.id}"))).one()
    assert tuple(row) == ("closed", "Вопрос о полисе")


async def test_the_journal_finds_a_card_by_its_number_as_the_header_shows_it(
    sessions, people: People, call_card: MakeCard
) -> None:
    """«РКК SOGAZ-2026-000001» (copied from the card's header) and «№ ...» find the card."""
    from journal import access
    from journal.access import CardFilter

    card = await call_card("sogaz")
    await call_card("sogaz")
    for typed in (f"РКК {card.number}", f"ркк {card.number}", f"№ {card.number}", card.number):
        async with unit_of_work(sessions) as session:
            page = await access.list_cards(session, people.sogaz_op, CardFilter(text=typed))
        assert [c.id for c in page.cards] == [card.id], typed
