"""Callbacks over a shift (issue 16): «Исполнено» and closing settle a card's waiting
callback and say so."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.support.api import Api

FILLED = {"appeal_type": "consultation", "topic_code": "4.1", "content": "Как получить полис",
          "applicant_name": "Соколова Вера Андреевна"}


async def _deferred(api: Api, login: str = "fund-op") -> dict:
    """A card of `login`'s organization in work with a pending callback (deferred by them)."""
    card = await api.written_card(login, **FILLED)
    await api.login(login)
    await api.call("POST", "/api/v1/callbacks", expect=201, json={
        "card_id": card.id, "version": card.version, "contact_phone": "+79130000001",
        "callback_due_at": (datetime.now(UTC) + timedelta(hours=2)).isoformat()})
    return await api.call("GET", f"/api/v1/cards/{card.id}")


async def test_done_cancels_the_waiting_callback_and_the_answer_says_so(api: Api) -> None:
    card = await _deferred(api)
    done = await api.call("POST", f"/api/v1/cards/{card['id']}/complete", json={
        "version": card["version"], "changes": {"measures_taken": "Разъяснено"}})
    assert done["status"] == "done" and done["callbacks_cancelled"] == 1
    listed = await api.call("GET", "/api/v1/callbacks", params={"status": "all"})
    assert [t["status"] for t in listed["items"]] == ["cancelled"]
    await api.login("admin")
    closed = await api.call("POST", f"/api/v1/cards/{card['id']}/close", json={})
    assert closed["callbacks_cancelled"] == 0


async def _queued(api: Api, *, hours: float, org_login: str = "fund-op", name: str = "Гражданин",
                  level: int | None = None) -> int:
    """An untaken pending callback (a secretary message's) on a new card, due in `hours`."""
    from hotline.web.keys import SESSIONS
    from journal.db import unit_of_work
    from journal.models import CallbackTask, Card

    card = await api.written_card(org_login, **FILLED)
    async with unit_of_work(api.app[SESSIONS]) as session:
        if level is not None:
            (await session.get(Card, card.id)).responsible_level = level
        task = CallbackTask(card_id=card.id, organization_id=card.organization_id,
                            status="pending", attempts=0, contact_phone="+79130000002",
                            contact_name=name, due_at=datetime.now(UTC) + timedelta(hours=hours),
                            created_at=datetime.now(UTC))
        session.add(task)
        await session.flush()
        return task.id


async def test_the_queue_is_the_organizations_untaken_callbacks_of_the_level(api: Api) -> None:
    """Overdue first, in the line's zone; another organization's and level 2's are not
    there; taking one makes it mine and a colleague cannot take it again."""
    later = await _queued(api, hours=2, name="Позже")
    overdue = await _queued(api, hours=-1, name="Просрочен")
    await _queued(api, hours=1, name="Второй уровень", level=2)
    await _queued(api, hours=1, org_login="sogaz-op", name="Согаз")
    await api.add_user("fund-op2", "tfoms")
    await api.login("fund-op")
    queue = (await api.call("GET", "/api/v1/callbacks", params={"assigned": "none"}))["items"]
    assert [t["id"] for t in queue] == [overdue, later]
    assert queue[0]["zone"] == "Asia/Barnaul" and queue[0]["dialling"] is False
    mine = await api.call("POST", f"/api/v1/callbacks/{later}/take")
    assert mine["assigned_user_id"] is not None
    listed = await api.call("GET", "/api/v1/callbacks", params={"assigned": "me"})
    assert [t["id"] for t in listed["items"]] == [later]
    await api.login("fund-op2")
    taken = await api.call("POST", f"/api/v1/callbacks/{later}/take", expect=409)
    assert taken["error"]["message"] == "Этот обратный звонок уже взял(а) Fund-Op"
    queue = (await api.call("GET", "/api/v1/callbacks", params={"assigned": "none"}))["items"]
    assert [t["id"] for t in queue] == [overdue]


async def test_a_callback_being_dialled_is_locked_to_its_operator(api: Api) -> None:
    """«Позвонить» on a queued task takes it; a colleague's «Позвонить» is refused (the
    journal's rule, as the dial endpoint applies it under a row lock)."""
    from hotline.web.keys import SESSIONS
    from journal.callbacks import get_callback_for, note_attempt
    from journal.db import unit_of_work
    from journal.errors import Conflict, InvalidTransition

    task_id = await _queued(api, hours=-1)
    await api.add_user("fund-op2", "tfoms")
    first, second = await api.user_actor("fund-op"), await api.user_actor("fund-op2")
    async with unit_of_work(api.app[SESSIONS]) as session:
        task = await get_callback_for(session, first, task_id, lock=True)
        await note_attempt(session, first, task)
        assert task.assigned_user_id == first.user_id
    for again, error in ((second, Conflict), (first, InvalidTransition)):
        try:
            async with unit_of_work(api.app[SESSIONS]) as session:
                task = await get_callback_for(session, again, task_id, lock=True)
                await note_attempt(session, again, task)
        except error:
            pass
        else:
            raise AssertionError(f"{again.login} dialled a task being dialled")
    await api.login("fund-op")
    mine = (await api.call("GET", "/api/v1/callbacks", params={"assigned": "me"}))["items"]
    assert mine[0]["dialling"] is True and mine[0]["dialling_user_id"] == first.user_id
