"""Access rules: an organization's staff see and change only their own cards, by every path."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from journal import access, cards
from journal.access import CardFilter, Purpose
from journal.db import unit_of_work
from journal.errors import Forbidden, InvalidInput, NotFound
from journal.models import AuditEntry, CallbackTask, Call, Card
from tests.support.journal import MakeCard, People, audit_rows, count, history_rows


def _change_paths(card: Card) -> dict:
    """Every operation that changes a card, as (session, actor) -> awaitable."""
    later = datetime.now(UTC) + timedelta(days=1)
    return {
        "save": lambda s, a: cards.save(s, a, card.id, {"content": "чужое"}, card.version),
        "complete": lambda s, a: cards.complete(
            s, a, card.id, expected_version=card.version, changes={"measures_taken": "x"}),
        "close": lambda s, a: cards.close(s, a, card.id),
        "cancel": lambda s, a: cards.cancel(s, a, card.id, reason="чужая"),
        "forward": lambda s, a: cards.forward(s, a, card.id, to_organization="alfa", reason="x"),
        "extend": lambda s, a: cards.extend(
            s, a, card.id, new_due=card.due_date + timedelta(days=3), reason="x"),
        "defer": lambda s, a: cards.defer(
            s, a, card.id, contact_phone="+79130000000", callback_due_at=later),
        "attach_call": lambda s, a: cards.attach_call(s, a, card.id, pbx_call_id="free-call"),
        "read": lambda s, a: cards.read_card(s, a, card.id),
        "history": lambda s, a: cards.card_history(s, a, card.id),
        "get_view": lambda s, a: access.get_card_for(s, a, card.id, Purpose.VIEW),
        "get_change": lambda s, a: access.get_card_for(s, a, card.id, Purpose.CHANGE),
    }


async def _ids(sessions, actor, flt: CardFilter | None = None, **paging) -> list[int]:
    async with unit_of_work(sessions) as session:
        page = await access.list_cards(session, actor, flt, **paging)
    return [c.id for c in page.cards]


async def test_another_insurer_s_operator_cannot_reach_a_card_by_any_path(
    sessions, people: People, call_card: MakeCard
) -> None:
    card = await call_card("sogaz", caller="+79135550001")
    card = await _save_content(sessions, people, card)
    async with unit_of_work(sessions) as session:
        session.add(Call(pbx_call_id="free-call", direction="in", started_at=card.received_at,
                         outcome="answered"))
    history_before = len(await history_rows(sessions, card.id))
    for outsider in (people.kapital_op, people.tfoms_op):
        for name, attempt in _change_paths(card).items():
            async with unit_of_work(sessions) as session:
                with pytest.raises(NotFound) as info:
                    await attempt(session, outsider)
            assert info.value.message == "Карточка обращения не найдена", name
        # Lists and searches: not by default, not by naming the organization, not by text.
        for flt in (None, CardFilter(organization_id=people.orgs["sogaz"]),
                    CardFilter(text=card.number), CardFilter(text="5550001"),
                    CardFilter(phone="+79135550001"), CardFilter(text="Вопрос о полисе")):
            assert card.id not in await _ids(sessions, outsider, flt)
        async with unit_of_work(sessions) as session:
            assert (await access.search_cards(session, outsider, card.number)).total == 0
        # Nor through a screen-pop's cards in memory (the same rule, applied to a card).
        assert not access.may_see_card_of(outsider, card.organization_id)
    assert access.may_see_card_of(people.sogaz_op, card.organization_id)
    assert access.may_see_card_of(people.admin, card.organization_id)
    async with sessions() as session:
        stored = await session.get(Card, card.id)
        free_call = await session.scalar(select(Call).where(Call.pbx_call_id == "free-call"))
    assert (stored.status, stored.version, stored.content) == ("in_work", card.version, "Вопрос о полисе")
    assert stored.organization_id == people.orgs["sogaz"]
    assert free_call.card_id is None
    assert len(await history_rows(sessions, card.id)) == history_before
    assert await count(sessions, CallbackTask) == 0
    outsiders = {people.kapital_op.user_id, people.tfoms_op.user_id}
    assert [e for e in await audit_rows(sessions, card.id) if e.user_id in outsiders] == []


async def _save_content(sessions, people: People, card: Card) -> Card:
    async with unit_of_work(sessions) as session:
        return await cards.save(session, people.sogaz_op, card.id,
                                {"content": "Вопрос о полисе"}, card.version)


async def test_own_organization_staff_see_and_change_their_cards(
    sessions, people: People, call_card: MakeCard
) -> None:
    mine = await call_card("sogaz")
    theirs = await call_card("kapital")
    fund = await call_card("tfoms")
    assert await _ids(sessions, people.sogaz_op2) == [mine.id]
    assert await _ids(sessions, people.kapital_op) == [theirs.id]
    assert await _ids(sessions, people.tfoms_op) == [fund.id]
    async with unit_of_work(sessions) as session:
        saved = await cards.save(session, people.sogaz_op2, mine.id, {"content": "x"}, mine.version)
    assert saved.status == "in_work"


async def test_the_administrator_sees_everything_and_the_sysadmin_no_contents(
    sessions, people: People, call_card: MakeCard
) -> None:
    made = [await call_card(org) for org in ("sogaz", "kapital", "tfoms", "alfa")]
    assert sorted(await _ids(sessions, people.admin)) == sorted(c.id for c in made)
    assert sorted(await _ids(sessions, people.system)) == sorted(c.id for c in made)
    async with unit_of_work(sessions) as session:
        assert (await cards.read_card(session, people.admin, made[1].id)).id == made[1].id
    for attempt in (
        lambda s: access.list_cards(s, people.sysadmin),
        lambda s: cards.read_card(s, people.sysadmin, made[0].id),
        lambda s: access.get_card_for(s, people.sysadmin, made[0].id),
    ):
        async with sessions() as session:
            with pytest.raises(Forbidden):
                await attempt(session)
    assert access.can_close(people.admin)
    assert not any(access.can_close(a) for a in (people.sogaz_op, people.sysadmin, people.system))


async def test_a_forwarded_card_changes_hands(sessions, people: People, call_card: MakeCard) -> None:
    card = await call_card("sogaz")
    async with unit_of_work(sessions) as session:
        await cards.forward(session, people.sogaz_op, card.id, to_organization="kapital",
                            reason="Застрахован в другой СМО")
    assert await _ids(sessions, people.kapital_op) == [card.id]
    assert await _ids(sessions, people.sogaz_op) == []
    async with unit_of_work(sessions) as session:
        with pytest.raises(NotFound):
            await cards.read_card(session, people.sogaz_op, card.id)
    async with unit_of_work(sessions) as session:
        seen = await cards.read_card(session, people.kapital_op, card.id)
        saved = await cards.save(session, people.kapital_op, card.id, {"content": "Принято"}, seen.version)
    assert saved.status == "in_work"
    # The history the new holder reads keeps who had it.
    async with unit_of_work(sessions) as session:
        rows = await cards.card_history(session, people.kapital_op, card.id)
    forward = next(r for r in rows if r.action == "forward")
    assert forward.changes["organization_id"] == [people.orgs["sogaz"], people.orgs["kapital"]]


async def test_an_operator_cannot_create_or_attach_in_another_organization(
    sessions, people: People, call_card: MakeCard
) -> None:
    card = await call_card("kapital")
    async with unit_of_work(sessions) as session:
        session.add(Call(pbx_call_id="sogaz-call", direction="in", organization_id=people.orgs["sogaz"],
                         started_at=card.received_at, outcome="answered"))
    async with sessions() as session:
        with pytest.raises(Forbidden):
            await cards.create_written(session, people.sogaz_op, channel="post",
                                       received_at=card.received_at,
                                       organization_id=people.orgs["kapital"])
    async with sessions() as session:
        with pytest.raises(NotFound):
            await cards.attach_call(session, people.kapital_op, card.id, pbx_call_id="sogaz-call")
    # The idempotent return of an existing card does not leak a forwarded card either.
    async with unit_of_work(sessions) as session:
        call = await session.scalar(select(Call).where(Call.card_id == card.id))
        await cards.forward(session, people.kapital_op, card.id, to_organization="alfa", reason="x")
    async with sessions() as session:
        with pytest.raises(NotFound):
            await cards.create_for_call(session, people.kapital_op, pbx_call_id=call.pbx_call_id,
                                        organization_code="kapital", received_at=card.received_at)


async def test_every_read_and_change_leaves_an_audit_row(
    sessions, people: People, call_card: MakeCard
) -> None:
    card = await call_card("sogaz")
    async with unit_of_work(sessions) as session:
        await cards.read_card(session, people.sogaz_op, card.id)
        await access.list_cards(session, people.sogaz_op, CardFilter(text="SOGAZ"))
        saved = await cards.save(session, people.sogaz_op, card.id, {"content": "x"}, card.version)
        await cards.card_history(session, people.sogaz_op, card.id)
    entries = await audit_rows(sessions)
    assert [(e.action, e.login, e.object_id) for e in entries] == [
        ("create", "system:pbx", str(card.id)),
        ("view", "sg1", str(card.id)),
        ("list", "sg1", None),
        ("save", "sg1", str(card.id)),
        ("history", "sg1", str(card.id)),
    ]
    listed = entries[2]
    assert listed.details["card_ids"] == [card.id]
    assert listed.details["filters"] == {"text": "SOGAZ"}
    assert entries[3].details["fields"] == ["content", "status"]
    assert all(e.remote_addr == "10.0.0.1" for e in entries[1:])
    assert saved.version == 2


async def test_a_read_rolled_back_with_its_transaction_leaves_no_trace_of_a_view(
    sessions, people: People, call_card: MakeCard
) -> None:
    """The view and its audit row share a transaction: the caller must commit to show it."""
    card = await call_card("sogaz")
    async with sessions() as session:
        await cards.read_card(session, people.sogaz_op, card.id)
        await session.rollback()
    assert await count(sessions, AuditEntry, AuditEntry.action == "view") == 0


async def test_filters_narrow_the_journal_and_page_it(sessions, people: People, call_card: MakeCard) -> None:
    a = await call_card("sogaz", caller="+79130000011")
    b = await call_card("sogaz", caller="+79130000022")
    c = await call_card("sogaz", caller="+79130000033")
    async with unit_of_work(sessions) as session:
        a = await cards.save(session, people.sogaz_op, a.id, {
            "appeal_type": "consultation", "topic_code": "4.12.1", "applicant_name": "Сидорова",
            "responsible_level": 2, "responsible_user_id": people.sogaz_op2.user_id,
        }, a.version)
        b = await cards.save(session, people.sogaz_op2, b.id, {
            "appeal_type": "complaint", "topic_code": "2", "content": "Взяли 100% оплату"}, b.version)
        w = await cards.create_written(session, people.sogaz_op, channel="email",
                                       received_at=a.received_at - timedelta(days=3))
    op = people.sogaz_op
    assert await _ids(sessions, op, CardFilter(topic_code="4.12")) == [a.id]
    assert await _ids(sessions, op, CardFilter(appeal_type="complaint")) == [b.id]
    assert sorted(await _ids(sessions, op, CardFilter(statuses=["in_work"]))) == [a.id, b.id]
    assert await _ids(sessions, op, CardFilter(channel="email")) == [w.id]
    assert await _ids(sessions, op, CardFilter(form="written")) == [w.id]
    assert await _ids(sessions, op, CardFilter(level=2)) == [a.id]
    assert sorted(await _ids(sessions, op, CardFilter(operator_id=people.sogaz_op2.user_id))) == [a.id]
    assert await _ids(sessions, op, CardFilter(received_to=a.received_at - timedelta(days=1))) == [w.id]
    assert w.id not in await _ids(sessions, op, CardFilter(received_from=a.received_at - timedelta(days=1)))
    assert await _ids(sessions, op, CardFilter(text="сидорова")) == [a.id]  # both backends
    assert await _ids(sessions, op, CardFilter(text="СИДОРОВА")) == [a.id]
    assert await _ids(sessions, op, CardFilter(text="Сидорова")) == [a.id]
    assert await _ids(sessions, op, CardFilter(text="100%")) == [b.id]  # % is not a wildcard
    assert await _ids(sessions, op, CardFilter(text="+7 913 000-00-33")) == [c.id]
    assert await _ids(sessions, op, CardFilter(text=c.number.lower())) == [c.id]
    # Paging: newest received first, stable.
    everything = await _ids(sessions, op, per_page=10)
    assert len(everything) == 4 and everything[-1] == w.id
    pages = [await _ids(sessions, op, page=p, per_page=3) for p in (1, 2)]
    assert pages[0] + pages[1] == everything
    async with unit_of_work(sessions) as session:
        page = await access.list_cards(session, op, page=2, per_page=3)
    assert (page.total, page.pages, page.page) == (4, 2, 2)
    async with sessions() as session:
        with pytest.raises(InvalidInput):
            await access.list_cards(session, op, per_page=100000)


async def test_an_operator_filter_on_another_organization_finds_nothing(
    sessions, people: People, call_card: MakeCard
) -> None:
    await call_card("kapital")
    assert await _ids(sessions, people.sogaz_op, CardFilter(organization_id=people.orgs["kapital"])) == []
