"""The callbacks in the roll-up (migration 0013) give the raw calls' numbers exactly and the
numbers computed directly from the rows, in Python, on a small random journal of the fourth
quarter of 2026, and stay right when calls and callbacks change after their days were rolled
up: a callback done later or earlier, a second one before the first, one cancelled or
deleted, a message moved to another day, linked to another card or no longer a message.
"""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import delete, select, update

from hotline.reports.hours import level2_queues, operator_hours
from journal.calendar import load_calendar_dir
from journal.models import Call, CallbackTask, CallRollupCallback, Card
from journal.reports.calls import Dimension, HoursInterval, call_sections
from journal.db import unit_of_work
from tests.support.report_data import add_callback
from tests.support.paths import REPO
from tests.support.rollup_data import NOW, Q4, seed, worked



@pytest.fixture(scope="module")
def calendar():
    return load_calendar_dir(REPO / "config" / "calendar")


async def sections(sessions, actor, settings, hours, *, rollup: bool) -> dict:
    async with unit_of_work(sessions) as s:
        got = await call_sections(s, actor, Q4, hours, list(Dimension), rollup=rollup,
                                  level2_queues=level2_queues(settings), now=NOW)
    return {dim: {(r.key, r.in_hours): r for r in rows} for dim, rows in got.items()}


async def direct(sessions, hours: list[HoursInterval]) -> dict:
    """The LINE section's callback figures from the rows as they are now."""
    async with unit_of_work(sessions) as s:
        calls = (await s.execute(
            select(Call.line_number, Call.started_at, Call.outcome, Call.card_id)
            .where(Call.direction == "in", Call.started_at >= Q4.start, Call.started_at < Q4.end))).all()
        done = (await s.execute(select(CallbackTask.card_id, CallbackTask.done_at).where(
            CallbackTask.status == "done", CallbackTask.done_at.is_not(None)))).all()
    first: dict[int, object] = {}
    for card, at in done:
        first[card] = min(at, first.get(card, at))
    out: dict = {}
    for line, start, outcome, card in calls:
        in_hours = any(h.line == line and h.start <= start < h.end for h in hours)
        row = out.setdefault((line, in_hours), {"secretary": 0, "called_back": 0, "delays": []})
        if outcome != "secretary":
            continue
        row["secretary"] += 1
        if card in first:
            row["called_back"] += 1
            row["delays"].append(worked(hours, line, first[card]) - worked(hours, line, start))
    return {key: {"secretary": v["secretary"], "called_back": v["called_back"],
                  "callback_delay_avg": sum(v["delays"]) / len(v["delays"]) if v["delays"] else None}
            for key, v in out.items()}


async def check(sessions, actor, settings, hours) -> dict:
    """The report from the roll-up equals the raw one in every section and field, and its
    callbacks equal the direct computation."""
    rolled = await sections(sessions, actor, settings, hours, rollup=True)
    raw = await sections(sessions, actor, settings, hours, rollup=False)
    assert rolled == raw
    expected = await direct(sessions, hours)
    lines = rolled[Dimension.LINE]
    assert set(lines) == set(expected)
    for key, want in expected.items():
        got = lines[key]
        assert (got.secretary, got.called_back) == (want["secretary"], want["called_back"]), key
        if want["callback_delay_avg"] is None:
            assert got.callback_delay_avg is None, key
        else:
            assert got.callback_delay_avg == pytest.approx(want["callback_delay_avg"], abs=0.006), key
    return rolled


async def edit(sessions, rng: random.Random) -> list[str]:
    """Random changes of the messages and callbacks of October and November (rolled up)."""
    done_log = []
    async with unit_of_work(sessions) as s:
        tasks = (await s.execute(select(CallbackTask).where(CallbackTask.status == "done")
                                 .order_by(CallbackTask.id))).scalars().all()
        messages = (await s.execute(select(Call).where(Call.outcome == "secretary")
                                    .order_by(Call.id))).scalars().all()
        cards = sorted({m.card_id for m in messages if m.card_id is not None})
        for task in rng.sample(tasks, 4):  # done later or earlier, by hours or days
            task.done_at += timedelta(hours=rng.choice([-30, -5, 3, 20, 50]))
            done_log.append(f"moved callback {task.id}")
        for task in rng.sample(tasks, 2):
            task.status = "cancelled"
            done_log.append(f"cancelled callback {task.id}")
        for message in rng.sample(messages, 3):  # a second callback, before the first
            if message.card_id is not None:
                card = await s.get(Card, message.card_id)
                at = message.started_at + timedelta(hours=rng.randrange(1, 40))
                await add_callback(s, card, due=at, status="done", done=at)
                done_log.append(f"new callback of card {card.id}")
        victim = rng.choice(tasks)
        if victim.status == "done":
            await s.execute(delete(CallbackTask).where(CallbackTask.id == victim.id))
            done_log.append(f"deleted callback {victim.id}")
        for message in rng.sample(messages, 4):
            change = rng.choice(["moved", "card", "outcome"])
            if change == "moved":
                values = {"started_at": message.started_at + timedelta(days=rng.choice([-3, 1, 9]))}
            elif change == "card":
                values = {"card_id": rng.choice(cards)}
            else:
                values = {"outcome": "answered", "queue_wait_seconds": 5, "talk_seconds": 60}
            await s.execute(update(Call).where(Call.id == message.id).values(**values))
            done_log.append(f"message {message.id} {change}")
    return done_log


async def test_the_rolled_up_callbacks_stay_exact_through_changes(
    sessions, people, settings, calendar
) -> None:
    rng = random.Random(21)
    await seed(sessions, people, rng, n=220)
    hours = operator_hours(settings, calendar, Q4)
    first = await check(sessions, people.admin, settings, hours)
    assert sum(r.called_back for r in first[Dimension.TOTAL].values()) > 15
    async with unit_of_work(sessions) as s:
        assert (await s.scalar(select(CallRollupCallback.id).limit(1))) is not None
    for _ in range(3):
        assert await edit(sessions, rng)
        await check(sessions, people.admin, settings, hours)


async def test_a_callback_changed_by_hand_marks_its_days(sessions, people, settings, calendar) -> None:
    """Whoever changes a done callback (a script, a console), the days of its card's
    messages and callbacks are built again: the database marks them (migration 0013)."""
    rng = random.Random(3)
    await seed(sessions, people, rng, n=120)
    hours = operator_hours(settings, calendar, Q4)
    await check(sessions, people.admin, settings, hours)
    async with unit_of_work(sessions) as s:  # one UPDATE per task, as a script would
        for task in (await s.execute(select(CallbackTask).where(CallbackTask.status == "done"))).scalars():
            await s.execute(update(CallbackTask).where(CallbackTask.id == task.id)
                            .values(done_at=task.done_at + timedelta(days=2)))
    await check(sessions, people.admin, settings, hours)
    async with unit_of_work(sessions) as s:
        await s.execute(update(CallbackTask).where(CallbackTask.status == "done")
                        .values(status="failed"))
    after = await check(sessions, people.admin, settings, hours)
    assert sum(r.called_back for r in after[Dimension.TOTAL].values()) == 0
