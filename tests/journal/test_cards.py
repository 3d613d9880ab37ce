"""The card lifecycle: create, save, complete, close, cancel, forward, extend, defer, calls."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from journal import cards
from journal.cards import CardRules
from journal.db import unit_of_work
from journal.deadlines import DeadlinePolicy
from journal.errors import Conflict, Forbidden, InvalidInput, InvalidTransition, NotFound
from journal.models import Call, CallbackTask, Card, CardHistory
from tests.support.journal import MakeCard, People, audit_rows, count, history_rows, recently

FIXED_NOW = datetime(2026, 3, 2, 5, 0, tzinfo=UTC)  # Monday 02.03.2026, 12:00 in Barnaul
FIXED = CardRules(clock=lambda: FIXED_NOW)


async def _save(sessions, actor, card: Card, **changes) -> Card:
    async with unit_of_work(sessions) as session:
        return await cards.save(session, actor, card.id, changes, card.version)


# What «Исполнено» needs besides the measures taken (card_fields.REQUIREMENTS).
DONE_FIELDS = {"appeal_type": "consultation", "topic_code": "4.1", "content": "Вопрос о полисе",
               "applicant_name": "Петров Пётр Петрович"}


async def _done(sessions, actor, card: Card, **changes) -> Card:
    async with unit_of_work(sessions) as session:
        return await cards.complete(
            session, actor, card.id, expected_version=card.version,
            changes={**DONE_FIELDS, "measures_taken": "Разъяснено", **changes},
        )


# --- creation -----------------------------------------------------------------------------


async def test_a_call_gets_a_numbered_draft_card_with_a_due_date(sessions, people: People) -> None:
    async with unit_of_work(sessions) as session:
        card = await cards.create_for_call(
            session, people.system, pbx_call_id="1700000000.1", line="88002009204",
            caller_number="+79131234567", caller_name="BEELINE", received_at=FIXED_NOW,
            rules=FIXED,
        )
    assert card.number == "SOGAZ-2026-000001"
    assert (card.status, card.channel, card.form) == ("draft", "hotline", "oral")
    assert card.organization_id == card.receiving_organization_id == people.orgs["sogaz"]
    assert card.applicant_phone == "+79131234567"
    assert card.applicant_name is None  # a caller-id name names a line, not a person
    assert card.due_date == date(2026, 4, 1)
    assert card.version == 1
    async with sessions() as session:
        call = await session.scalar(select(Call).where(Call.pbx_call_id == "1700000000.1"))
    assert (call.card_id, call.organization_id, call.caller_name) == (card.id, card.organization_id, "BEELINE")
    [created] = await history_rows(sessions, card.id)
    assert created.action == "create" and created.user_id is None
    assert created.changes["number"] == [None, "SOGAZ-2026-000001"]
    assert created.changes["call"] == [None, "1700000000.1"]
    assert created.changes["due_date"] == [None, "2026-04-01"]
    [entry] = await audit_rows(sessions, card.id)
    assert (entry.action, entry.login) == ("create", "system:pbx")


async def test_creating_for_the_same_call_again_returns_the_same_card(sessions, people: People) -> None:
    """Idempotent on the PBX call id: a re-sent event does not make a second card."""
    ids = []
    for _ in range(3):
        async with unit_of_work(sessions) as session:
            card = await cards.create_for_call(
                session, people.system, pbx_call_id="dup-1", organization_code="tfoms",
                caller_number="anonymous", received_at=recently(),
            )
            ids.append(card.id)
    assert len(set(ids)) == 1
    assert await count(sessions, Card) == 1
    assert await count(sessions, CardHistory) == 1
    assert card.applicant_phone is None  # no usable number: the call still gets its card


async def test_cards_of_many_calls_come_in_one_go_in_the_order_given(
    sessions, people: People
) -> None:
    """Numbers per organization in the order of the calls, a call that has a card keeps it,
    each new card has its create history row and audit entry, every call row is linked."""
    async with unit_of_work(sessions) as session:
        first = await cards.create_for_call(
            session, people.system, pbx_call_id="m-0", organization_code="sogaz",
            received_at=FIXED_NOW, rules=FIXED,
        )
    calls = [
        cards.ArrivedCall("m-1", FIXED_NOW, line="88002009204", caller_number="+79131111111"),
        cards.ArrivedCall("m-2", FIXED_NOW, organization_code="tfoms", caller_number="anonymous"),
        cards.ArrivedCall("m-0", FIXED_NOW, organization_code="sogaz"),
        cards.ArrivedCall("m-3", FIXED_NOW, organization_id=people.orgs["sogaz"],
                          channel="secretary"),
    ]
    async with unit_of_work(sessions) as session:
        made = await cards.create_for_calls(session, people.system, calls, rules=FIXED)
    assert [c.number for c in made] == [
        "SOGAZ-2026-000002", "TFOMS-2026-000001", "SOGAZ-2026-000001", "SOGAZ-2026-000003"]
    assert made[2].id == first.id
    assert [c.applicant_phone for c in made] == ["+79131111111", None, None, None]
    assert [c.channel for c in made] == ["hotline", "hotline", "hotline", "secretary"]
    async with sessions() as session:
        linked = dict((await session.execute(select(Call.pbx_call_id, Call.card_id))).all())
    assert linked == {call.pbx_call_id: card.id for call, card in zip(calls, made, strict=True)}
    for call, card in zip(calls, made, strict=True):
        [created] = await history_rows(sessions, card.id)
        assert created.changes["call"] == [None, call.pbx_call_id]
        assert created.changes["number"] == [None, card.number]
        [entry] = await audit_rows(sessions, card.id)
        assert (entry.action, entry.details["number"]) == ("create", card.number)


async def test_one_refused_call_refuses_the_whole_bulk(sessions, people: People) -> None:
    calls = [
        cards.ArrivedCall("r-1", recently(), organization_code="sogaz"),
        cards.ArrivedCall("r-2", recently(), organization_code="tfoms"),
    ]
    async with sessions() as session:
        with pytest.raises(Forbidden):
            await cards.create_for_calls(session, people.sogaz_op, calls)
    assert await count(sessions, Card) == 0


async def test_a_call_row_written_by_the_tracker_is_linked_not_duplicated(sessions, people: People) -> None:
    async with unit_of_work(sessions) as session:
        session.add(Call(pbx_call_id="tracked", direction="in", line_number="88007758565",
                         organization_id=people.orgs["tfoms"], caller_number="+7913",
                         started_at=recently(), outcome="answered"))
    async with unit_of_work(sessions) as session:
        card = await cards.create_for_call(
            session, people.tfoms_op, pbx_call_id="tracked", organization_id=people.orgs["tfoms"],
            received_at=recently(),
        )
    async with sessions() as session:
        calls = list(await session.scalars(select(Call)))
    assert [(c.pbx_call_id, c.card_id, c.outcome) for c in calls] == [("tracked", card.id, "answered")]


async def test_card_creation_is_refused_for_bad_input_and_foreign_organizations(sessions, people: People) -> None:
    cases = [
        (people.sogaz_op, dict(organization_code="tfoms"), Forbidden),
        (people.sysadmin, dict(organization_code="tfoms"), Forbidden),
        (people.system, dict(organization_code="nope"), NotFound),
        (people.system, dict(line="80000000000"), NotFound),
        (people.system, dict(), InvalidInput),
        (people.system, dict(organization_code="tfoms", channel="post"), InvalidInput),
        (people.system, dict(organization_code="tfoms", received_at=datetime.now(UTC) + timedelta(days=1)), InvalidInput),
        (people.system, dict(organization_code="tfoms", received_at=datetime(2026, 1, 1)), InvalidInput),
    ]
    for actor, kwargs, error in cases:
        async with sessions() as session:
            with pytest.raises(error) as info:
                await cards.create_for_call(
                    session, actor, pbx_call_id="x", **{"received_at": recently(), **kwargs}
                )
            assert info.value.message
    assert await count(sessions, Card) == 0


async def test_a_written_appeal_is_registered_by_hand(sessions, people: People) -> None:
    async with unit_of_work(sessions) as session:
        card = await cards.create_written(
            session, people.tfoms_op, channel="forwarded", received_at=recently(60),
            fields={
                "forwarded_from_body": "Минздрав края", "forwarded_letter_number": "01-12/345",
                "forwarded_letter_date": "2026-01-20", "applicant_name": "  Петров П. П. ",
                "appeal_type": "complaint", "topic_code": "2", "complaint_reasons": ["11", "7"],
                "content": "Отказали в записи",
            },
        )
    assert (card.form, card.channel, card.status) == ("written", "forwarded", "draft")
    assert card.number.startswith("TFOMS-")
    assert card.applicant_name == "Петров П. П."
    assert card.forwarded_letter_date == date(2026, 1, 20)
    assert [r.code for r in card.complaint_reasons] == ["11", "7"]
    [created] = await history_rows(sessions, card.id)
    assert created.changes["complaint_reasons"] == [None, ["11", "7"]]
    assert created.changes["applicant_name"] == [None, "Петров П. П."]
    assert created.user_id == people.tfoms_op.user_id


@pytest.mark.parametrize(
    ("channel", "fields"),
    [
        ("hotline", {}),
        ("forwarded", {"forwarded_from_body": "Минздрав"}),
        ("post", {"forwarded_letter_number": "1"}),
        ("post", {"status": "done"}),
        ("post", {"complaint_reasons": ["11"], "appeal_type": "consultation"}),
    ],
)
async def test_a_written_appeal_with_bad_fields_is_refused(sessions, people: People, channel, fields) -> None:
    async with sessions() as session:
        with pytest.raises(InvalidInput):
            await cards.create_written(
                session, people.tfoms_op, channel=channel, received_at=recently(), fields=fields
            )


# --- save -----------------------------------------------------------------------------------


async def test_saving_a_draft_puts_it_in_work_and_records_exact_history(
    sessions, people: People, call_card: MakeCard
) -> None:
    card = await call_card("sogaz")
    saved = await _save(
        sessions, people.sogaz_op, card, applicant_name="Иванова А. А.",
        applicant_policy="2250 1234 5678 9018", applicant_birth_date=date(1960, 5, 1),
        appeal_type="consultation", topic_code="4.9", compensation_sum="1500.5",
    )
    assert saved.status == "in_work"
    assert saved.version == 2
    assert saved.applicant_policy == "2250123456789018"
    assert saved.compensation_sum == Decimal("1500.50")
    _create, change = await history_rows(sessions, card.id)
    assert change.action == "save"
    assert change.user_id == people.sogaz_op.user_id
    assert change.changes == {
        "applicant_name": [None, "Иванова А. А."],
        "applicant_policy": [None, "2250123456789018"],
        "applicant_birth_date": [None, "1960-05-01"],
        "appeal_type": [None, "consultation"],
        "topic_code": [None, "4.9"],
        "compensation_sum": [None, "1500.50"],
        "status": ["draft", "in_work"],
    }
    again = await _save(sessions, people.sogaz_op, saved, applicant_name="Иванова Анна")
    [*_, last] = await history_rows(sessions, card.id)
    assert last.changes == {"applicant_name": ["Иванова А. А.", "Иванова Анна"]}
    assert again.version == 3


async def test_a_save_that_changes_nothing_writes_nothing(sessions, people: People, call_card: MakeCard) -> None:
    card = await _save(sessions, people.sogaz_op, await call_card("sogaz"), content="Вопрос")
    rows = len(await history_rows(sessions, card.id))
    same = await _save(sessions, people.sogaz_op, card, content="  Вопрос ")
    assert same.version == card.version
    assert len(await history_rows(sessions, card.id)) == rows


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"applicant_policy": "12345"}, "applicant_policy"),
        ({"applicant_policy": "123456789012345x"}, "applicant_policy"),
        ({"applicant_email": "not-an-email"}, "applicant_email"),
        ({"applicant_birth_date": "2999-01-01"}, "applicant_birth_date"),
        ({"applicant_birth_date": "01.02.1960"}, "applicant_birth_date"),
        ({"appeal_type": "gossip"}, "appeal_type"),
        ({"topic_code": "9.99"}, "topic_code"),
        ({"appeal_type": "statement", "topic_code": "4.9"}, "topic_code"),
        ({"appeal_type": "complaint", "complaint_reasons": ["99"]}, "complaint_reasons"),
        ({"complaint_reasons": ["11"]}, "complaint_reasons"),
        ({"compensation_sum": "-1"}, "compensation_sum"),
        ({"compensation_sum": "1.005"}, "compensation_sum"),
        ({"justified": "yes"}, "justified"),
        ({"insurer_concerned_id": 10**9}, "insurer_concerned_id"),
        ({"responsible_user_id": 10**9}, "responsible_user_id"),
        ({"responsible_level": 4}, "responsible_level"),
        ({"oral_outcome": "shrug"}, "oral_outcome"),
        ({"status": "done"}, "status"),
        ({"organization_id": 1}, "organization_id"),
        ({"number": "X-1"}, "number"),
        ({"forwarded_letter_number": "1"}, "forwarded_letter_number"),
    ],
)
async def test_bad_values_are_refused_naming_the_field(
    sessions, people: People, call_card: MakeCard, changes, field
) -> None:
    card = await call_card("sogaz")
    async with sessions() as session:
        with pytest.raises(InvalidInput) as info:
            await cards.save(session, people.sogaz_op, card.id, changes, card.version)
    assert info.value.details["field"] == field
    assert info.value.message
    assert len(await history_rows(sessions, card.id)) == 1


async def test_dictionary_and_reference_fields_are_accepted_when_valid(
    sessions, people: People, call_card: MakeCard
) -> None:
    card = await call_card("sogaz")
    saved = await _save(
        sessions, people.sogaz_op, card, appeal_type="complaint", topic_code="2",
        complaint_reasons=["11", "13.1"], insurer_concerned_id=people.orgs["sogaz"],
        responsible_user_id=people.sogaz_op2.user_id, responsible_level=2,
        applicant_email="a@example.ru", oral_outcome="by_level2",
    )
    assert [r.code for r in saved.complaint_reasons] == ["11", "13.1"]
    changed = await _save(sessions, people.sogaz_op, saved, complaint_reasons=["13.1", "15"])
    assert [r.code for r in changed.complaint_reasons] == ["13.1", "15"]
    [*_, last] = await history_rows(sessions, card.id)
    assert last.changes == {"complaint_reasons": [["11", "13.1"], ["13.1", "15"]]}
    # Someone of another organization cannot be made responsible.
    async with sessions() as session:
        with pytest.raises(InvalidInput):
            await cards.save(session, people.sogaz_op, card.id,
                             {"responsible_user_id": people.kapital_op.user_id}, changed.version)


async def test_a_stale_version_is_a_conflict(sessions, people: People, call_card: MakeCard) -> None:
    """Two operators opened version 1; the second to save is told someone saved first."""
    card = await call_card("sogaz")
    await _save(sessions, people.sogaz_op, card, content="Первая версия")
    async with sessions() as session:
        with pytest.raises(Conflict) as info:
            await cards.save(session, people.sogaz_op2, card.id, {"content": "Вторая"}, card.version)
    assert "другой пользователь" in info.value.message


@pytest.mark.postgres
async def test_concurrent_saves_of_one_version_let_exactly_one_win(pg_sessions, pg_people: People) -> None:
    async with unit_of_work(pg_sessions) as session:
        card = await cards.create_written(session, pg_people.sogaz_op, channel="post", received_at=recently())

    async def edit(actor, text: str) -> str:
        try:
            async with unit_of_work(pg_sessions) as session:
                await cards.save(session, actor, card.id, {"content": text}, 1)
                await asyncio.sleep(0.05)  # hold the row while the other saves
            return "saved"
        except Conflict:
            return "conflict"

    outcomes = await asyncio.gather(
        *(edit(a, f"текст {i}") for i, a in enumerate([pg_people.sogaz_op, pg_people.sogaz_op2] * 3))
    )
    assert sorted(outcomes) == ["conflict"] * 5 + ["saved"]
    assert await count(pg_sessions, CardHistory, CardHistory.action == "save") == 1


@pytest.mark.postgres
async def test_concurrent_creation_for_one_call_makes_exactly_one_card(pg_sessions, pg_people: People) -> None:
    """20 tasks for a call nobody has written yet, then 20 for a call the tracker wrote."""
    async with unit_of_work(pg_sessions) as session:
        session.add(Call(pbx_call_id="tracked-1", direction="in", organization_id=pg_people.orgs["alfa"],
                         started_at=recently(), outcome="answered"))

    async def create(call_id: str) -> int:
        async with unit_of_work(pg_sessions) as session:
            card = await cards.create_for_call(
                session, pg_people.system, pbx_call_id=call_id, organization_code="alfa",
                caller_number="+79130000000", received_at=recently(),
            )
            await asyncio.sleep(0.01)
            return card.id

    for call_id in ("new-1", "tracked-1"):
        ids = await asyncio.gather(*(create(call_id) for _ in range(20)))
        assert len(set(ids)) == 1
    assert await count(pg_sessions, Card) == 2
    assert await count(pg_sessions, Call) == 2
    async with pg_sessions() as session:
        sequences = sorted(await session.scalars(select(Card.sequence)))
    assert sequences == [1, 2]  # the losers of the race took no number


# --- complete, close, cancel ---------------------------------------------------------------


async def test_completing_needs_measures_and_for_a_complaint_a_verdict(
    sessions, people: People, call_card: MakeCard
) -> None:
    card = await _save(sessions, people.sogaz_op, await call_card("sogaz"),
                       appeal_type="complaint", topic_code="2")
    async with sessions() as session:
        with pytest.raises(InvalidInput) as info:
            await cards.complete(session, people.sogaz_op, card.id, expected_version=card.version)
        assert info.value.details["fields"] == ["content", "applicant_name", "measures_taken", "justified"]
    card = await _save(sessions, people.sogaz_op, card, content="Взяли деньги за анализы",
                       anonymous=True)
    async with sessions() as session:
        with pytest.raises(InvalidInput) as info:
            await cards.complete(session, people.sogaz_op, card.id, expected_version=card.version)
        assert info.value.details["field"] == "measures_taken"
    async with sessions() as session:
        with pytest.raises(InvalidInput) as info:
            await cards.complete(session, people.sogaz_op, card.id, expected_version=card.version,
                                 changes={"measures_taken": "Проведена экспертиза"})
        assert info.value.details["field"] == "justified"
    async with unit_of_work(sessions) as session:
        done = await cards.complete(
            session, people.sogaz_op, card.id, expected_version=card.version, rules=FIXED,
            changes={"measures_taken": "Проведена экспертиза", "justified": False},
        )
    assert done.status == "done"
    assert done.answered_on == date(2026, 3, 2)
    [*_, last] = await history_rows(sessions, card.id)
    assert last.action == "complete"
    assert last.changes == {
        "measures_taken": [None, "Проведена экспертиза"], "justified": [None, False],
        "answered_on": [None, "2026-03-02"], "status": ["in_work", "done"],
    }
    # A done card may be corrected but must stay complete.
    fixed = await _save(sessions, people.sogaz_op, done, measures_taken="Экспертиза КМП")
    assert fixed.status == "done"
    async with sessions() as session:
        with pytest.raises(InvalidInput):
            await cards.save(session, people.sogaz_op, card.id, {"measures_taken": ""}, fixed.version)
    async with sessions() as session:
        with pytest.raises(InvalidTransition):
            await cards.complete(session, people.sogaz_op, card.id, expected_version=fixed.version)


async def test_only_the_administrator_closes_and_only_a_finished_card(
    sessions, people: People, call_card: MakeCard
) -> None:
    card = await _save(sessions, people.sogaz_op, await call_card("sogaz"), content="Вопрос")
    async with sessions() as session:
        with pytest.raises(InvalidTransition):
            await cards.close(session, people.admin, card.id)
    done = await _done(sessions, people.sogaz_op, card)
    async with sessions() as session:
        with pytest.raises(Forbidden):
            await cards.close(session, people.sogaz_op, card.id)
    assert not (await history_rows(sessions, card.id))[-1].action == "close"
    async with unit_of_work(sessions) as session:
        closed = await cards.close(session, people.admin, card.id, expected_version=done.version)
    assert closed.status == "closed"
    assert closed.closed_by_id == people.admin.user_id and closed.closed_at is not None


async def test_a_closed_card_refuses_every_change(sessions, people: People, call_card: MakeCard) -> None:
    card = await _done(sessions, people.sogaz_op, await call_card("sogaz"))
    async with unit_of_work(sessions) as session:
        closed = await cards.close(session, people.admin, card.id)
    async with unit_of_work(sessions) as session:
        session.add(Call(pbx_call_id="repeat", direction="in", started_at=recently(), outcome="answered"))
    later = datetime.now(UTC) + timedelta(days=1)
    attempts = {
        "save": lambda s, a: cards.save(s, a, card.id, {"content": "x"}, closed.version),
        "complete": lambda s, a: cards.complete(s, a, card.id, expected_version=closed.version),
        "close": lambda s, a: cards.close(s, a, card.id),
        "cancel": lambda s, a: cards.cancel(s, a, card.id, reason="ошибка"),
        "forward": lambda s, a: cards.forward(s, a, card.id, to_organization="tfoms", reason="x"),
        "extend": lambda s, a: cards.extend(s, a, card.id, new_due=closed.due_date + timedelta(days=5), reason="x"),
        "defer": lambda s, a: cards.defer(s, a, card.id, contact_phone="+79130000000", callback_due_at=later),
        "attach_call": lambda s, a: cards.attach_call(s, a, card.id, pbx_call_id="repeat"),
    }
    for attempt in attempts.values():
        for actor in (people.admin, people.sogaz_op):
            async with sessions() as session:
                with pytest.raises(InvalidTransition, match="закрыта"):
                    await attempt(session, actor)
    async with sessions() as session:
        stored = await session.get(Card, card.id)
    assert (stored.status, stored.version) == ("closed", closed.version)


async def test_cancelling_needs_a_reason_and_freezes_the_card(sessions, people: People, call_card: MakeCard) -> None:
    card = await call_card("sogaz")
    later = datetime.now(UTC) + timedelta(hours=2)
    async with unit_of_work(sessions) as session:
        task = await cards.defer(session, people.sogaz_op, card.id, contact_phone="+79130000000",
                                 callback_due_at=later)
    async with sessions() as session:
        with pytest.raises(InvalidInput):
            await cards.cancel(session, people.sogaz_op, card.id, reason="  ")
    async with unit_of_work(sessions) as session:
        cancelled = await cards.cancel(session, people.sogaz_op, card.id, reason="Создана по ошибке")
    assert (cancelled.status, cancelled.cancel_reason) == ("cancelled", "Создана по ошибке")
    async with sessions() as session:
        assert (await session.get(CallbackTask, task.id)).status == "cancelled"
    async with sessions() as session:
        with pytest.raises(InvalidTransition, match="аннулирована"):
            await cards.save(session, people.sogaz_op, card.id, {"content": "x"}, cancelled.version)
    async with unit_of_work(sessions) as session:
        assert (await cards.close(session, people.admin, card.id)).status == "closed"
    [*_, cancel_row, close_row] = await history_rows(sessions, card.id)
    assert cancel_row.comment == "Создана по ошибке"
    assert cancel_row.changes == {
        "status": ["in_work", "cancelled"], "cancel_reason": [None, "Создана по ошибке"]
    }
    assert close_row.changes["status"] == ["cancelled", "closed"]


# --- forward, extend, defer, calls -------------------------------------------------------------


async def test_forwarding_moves_the_card_and_keeps_who_had_it(sessions, people: People, call_card: MakeCard) -> None:
    card = await _save(sessions, people.sogaz_op, await call_card("sogaz"),
                       responsible_user_id=people.sogaz_op2.user_id, responsible_level=2)
    async with sessions() as session:
        with pytest.raises(InvalidInput):
            await cards.forward(session, people.sogaz_op, card.id, to_organization="sogaz", reason="x")
        with pytest.raises(NotFound):
            await cards.forward(session, people.sogaz_op, card.id, to_organization="nope", reason="x")
    async with unit_of_work(sessions) as session:
        moved = await cards.forward(session, people.sogaz_op, card.id, to_organization="kapital",
                                    reason="Застрахован в Капитал МС", expected_version=card.version)
    assert moved.organization_id == people.orgs["kapital"]
    assert moved.receiving_organization_id == people.orgs["sogaz"]
    assert moved.forwarded_at is not None and moved.responsible_user_id is None
    [*_, row] = await history_rows(sessions, card.id)
    assert row.action == "forward" and row.comment == "Застрахован в Капитал МС"
    assert row.changes["organization_id"] == [people.orgs["sogaz"], people.orgs["kapital"]]
    assert row.changes["responsible_user_id"] == [people.sogaz_op2.user_id, None]
    assert row.user_id == people.sogaz_op.user_id


async def test_the_due_date_is_extended_once_by_at_most_thirty_days(
    sessions, people: People, call_card: MakeCard
) -> None:
    card = await call_card("sogaz", rules=FIXED, received_at=FIXED_NOW)
    assert card.due_date == date(2026, 4, 1)
    for bad in (date(2026, 5, 2), date(2026, 4, 1), "не дата"):
        async with sessions() as session:
            with pytest.raises(InvalidInput):
                await cards.extend(session, people.sogaz_op, card.id, new_due=bad, reason="Экспертиза")
    async with sessions() as session:
        with pytest.raises(InvalidInput):
            await cards.extend(session, people.sogaz_op, card.id, new_due=date(2026, 5, 1), reason="")
    async with unit_of_work(sessions) as session:
        extended = await cards.extend(session, people.sogaz_op, card.id, new_due="2026-05-01",
                                      reason="Нужна экспертиза качества", rules=FIXED)
    assert (extended.due_date, extended.extension_old_due) == (date(2026, 5, 1), date(2026, 4, 1))
    assert extended.extended_by_id == people.sogaz_op.user_id
    [*_, row] = await history_rows(sessions, card.id)
    assert row.changes == {
        "due_date": ["2026-04-01", "2026-05-01"], "extension_old_due": [None, "2026-04-01"],
        "extended_at": [None, FIXED_NOW.isoformat()], "extended_by_id": [None, people.sogaz_op.user_id],
        "extension_reason": [None, "Нужна экспертиза качества"],
    }
    async with sessions() as session:
        with pytest.raises(InvalidTransition, match="уже продлевался"):
            await cards.extend(session, people.sogaz_op, card.id, new_due="2026-05-02", reason="Ещё")


async def test_due_dates_roll_to_a_working_day_when_configured(sessions, people: People, call_card: MakeCard) -> None:
    """Registered Friday 13.03.2026: due Sunday 12.04, rolled to Monday 13.04."""
    friday = datetime(2026, 3, 13, 5, 0, tzinfo=UTC)
    policy = DeadlinePolicy(roll_to_working_day=True, is_working_day=lambda d: d.weekday() < 5)
    card = await call_card("sogaz", rules=CardRules(policy, clock=lambda: friday), received_at=friday)
    assert card.due_date == date(2026, 4, 13)


async def test_a_deferred_answer_creates_a_callback_task(sessions, people: People, call_card: MakeCard) -> None:
    card = await call_card("sogaz")
    due = datetime.now(UTC) + timedelta(hours=3)
    for bad in ({"contact_phone": ""}, {"callback_due_at": datetime.now(UTC) - timedelta(hours=1)}):
        async with sessions() as session:
            with pytest.raises(InvalidInput):
                await cards.defer(session, people.sogaz_op2, card.id,
                                  **{"contact_phone": "+79130000000", "callback_due_at": due, **bad})
    async with unit_of_work(sessions) as session:
        task = await cards.defer(session, people.sogaz_op2, card.id, contact_phone="+7 913 000-00-00",
                                 contact_name="Иванова", note="Перезвонить после экспертизы",
                                 callback_due_at=due)
    assert (task.status, task.organization_id, task.assigned_user_id) == (
        "pending", people.orgs["sogaz"], people.sogaz_op2.user_id)
    async with sessions() as session:
        stored = await session.get(Card, card.id)
    assert stored.status == "in_work"
    assert stored.deferred_contact == "Иванова, +7 913 000-00-00"
    assert stored.callback_due_at == due


async def test_deferring_again_moves_the_one_pending_callback(
    sessions, people: People, call_card: MakeCard
) -> None:
    """A card has one pending callback: a second deferral changes its time and contact, it
    does not add a second call to make; the database itself refuses a second pending one."""
    card = await call_card("sogaz")
    first_due = datetime.now(UTC) + timedelta(hours=3)
    later_due = datetime.now(UTC) + timedelta(days=1)
    async with unit_of_work(sessions) as session:
        first = await cards.defer(session, people.sogaz_op2, card.id, contact_phone="+79130000000",
                                  callback_due_at=first_due)
    async with unit_of_work(sessions) as session:
        again = await cards.defer(session, people.sogaz_op, card.id, contact_phone="+79130000099",
                                  contact_name="Сын заявителя", callback_due_at=later_due)
    assert again.id == first.id
    async with sessions() as session:
        tasks = list(await session.scalars(select(CallbackTask).where(CallbackTask.card_id == card.id)))
        stored = await session.get(Card, card.id)
    assert [(t.status, t.contact_phone, t.due_at, t.assigned_user_id) for t in tasks] == [
        ("pending", "+79130000099", later_due, people.sogaz_op.user_id)]
    assert stored.deferred_contact == "Сын заявителя, +79130000099"
    with pytest.raises(IntegrityError):
        async with unit_of_work(sessions) as session:
            session.add(CallbackTask(
                card_id=card.id, organization_id=card.organization_id, contact_phone="+7913",
                due_at=later_due, status="pending", attempts=0, created_at=datetime.now(UTC)))


async def test_calls_are_attached_to_a_card_once(sessions, people: People, call_card: MakeCard) -> None:
    first, other = await call_card("sogaz"), await call_card("sogaz")
    async with unit_of_work(sessions) as session:
        session.add(Call(pbx_call_id="callback-1", direction="out", organization_id=people.orgs["sogaz"],
                         started_at=recently(), outcome="answered"))
        session.add(Call(pbx_call_id="kapital-call", direction="in", organization_id=people.orgs["kapital"],
                         started_at=recently(), outcome="answered"))
    for _ in range(2):  # the second time is a no-op
        async with unit_of_work(sessions) as session:
            call = await cards.attach_call(session, people.sogaz_op, first.id, pbx_call_id="callback-1")
        assert call.card_id == first.id
    rows = [r for r in await history_rows(sessions, first.id) if r.action == "attach_call"]
    assert [r.changes for r in rows] == [{"calls": [None, "callback-1"]}]
    async with sessions() as session:
        with pytest.raises(Conflict):
            await cards.attach_call(session, people.sogaz_op, other.id, pbx_call_id="callback-1")
        with pytest.raises(NotFound):
            await cards.attach_call(session, people.sogaz_op, other.id, pbx_call_id="no-such-call")
        with pytest.raises(NotFound):  # another organization's call is not disclosed
            await cards.attach_call(session, people.sogaz_op, other.id, pbx_call_id="kapital-call")
    async with sessions() as session:
        assert (await session.get(Card, first.id)).version == first.version  # row untouched


async def test_history_is_append_only_and_tells_the_whole_story(
    sessions, people: People, call_card: MakeCard
) -> None:
    card = await call_card("sogaz")
    card = await _save(sessions, people.sogaz_op, card, content="Вопрос о полисе")
    card = await _done(sessions, people.sogaz_op2, card)
    async with unit_of_work(sessions) as session:
        await cards.close(session, people.admin, card.id)
    async with unit_of_work(sessions) as session:
        rows = await cards.card_history(session, people.admin, card.id)
    assert [(r.action, r.user_id) for r in rows] == [
        ("create", None), ("save", people.sogaz_op.user_id),
        ("complete", people.sogaz_op2.user_id), ("close", people.admin.user_id),
    ]
    assert [r.id for r in rows] == sorted(r.id for r in rows)
    assert all(r.at is not None for r in rows)
    assert [r.changes["status"] for r in rows] == [
        [None, "draft"], ["draft", "in_work"], ["in_work", "done"], ["done", "closed"]
    ]
