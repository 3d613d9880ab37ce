"""ModeScheduler: one DateTrigger per line at the exact boundary; write, store, log, repeat."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.date import DateTrigger
from structlog.testing import capture_logs

from hotline.config import Line
from hotline.modes.scheduler import ModeScheduler, utc_now
from hotline.modes.schedule import Mode, Override, mode_at
from journal.calendar import load_calendar_dir
from tests.support.paths import REPO

CAL = load_calendar_dir(REPO / "config" / "calendar")
BARNAUL = ZoneInfo("Asia/Barnaul")
FUND_HOURS = {day: "08:30-17:30" for day in ("mon", "tue", "wed", "thu")} | {"fri": "08:30-16:15"}
FUND = Line.model_validate({"number": "88007758565", "organization": "tfoms", "hours": FUND_HOURS})
SOGAZ = Line(number="88002009204", organization="sogaz", around_the_clock=True)


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A wall-clock time in Barnaul."""
    return datetime(year, month, day, hour, minute, tzinfo=BARNAUL)


@dataclass
class FakeClock:
    """A clock the test moves by hand."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now


@dataclass
class FakePbx:
    """Records AstDB writes and stored switches; can be told to fail writes."""

    writes: list[tuple[str, str]] = field(default_factory=list)
    stored: list[tuple[str, str, str, str, datetime]] = field(default_factory=list)
    fail_writes: bool = False
    stored_event: asyncio.Event = field(default_factory=asyncio.Event)

    async def write_mode(self, line: str, mode: Mode) -> None:
        if self.fail_writes:
            raise ConnectionError("AMI is down")
        self.writes.append((line, mode))

    async def store_mode(self, line: str, mode: Mode, code: str, text: str, at: datetime) -> None:
        self.stored.append((line, mode, code, text, at))
        self.stored_event.set()


def make(pbx: FakePbx, clock: object, *lines: Line) -> ModeScheduler:
    return ModeScheduler(
        lines or (FUND, SOGAZ), CAL, write_mode=pbx.write_mode, store_mode=pbx.store_mode,
        clock=clock,  # type: ignore[arg-type]
    )


async def fire(modes: ModeScheduler, clock: FakeClock, line: str) -> datetime:
    """Move the fake clock to the line's scheduled run time and run exactly that job."""
    job = modes.job(line)
    assert job is not None and isinstance(job.trigger, DateTrigger)
    clock.now = job.next_run_time
    await job.func(*job.args, **job.kwargs)
    return clock.now


async def test_start_writes_stores_and_schedules_the_exact_boundary() -> None:
    """At 10:00 on the shortened 30 April the fund line is operator until exactly 16:30."""
    pbx, clock = FakePbx(), FakeClock(local(2026, 4, 30, 10))
    modes = make(pbx, clock)
    await modes.start(paused=True)
    try:
        assert pbx.writes == [(FUND.number, "operator"), (SOGAZ.number, "operator")]
        assert [s[:3] for s in pbx.stored] == [
            (FUND.number, "operator", "shortened_day"),
            (SOGAZ.number, "operator", "around_the_clock"),
        ]
        assert all(s[4] == clock.now for s in pbx.stored)
        assert modes.next_run(FUND.number) == local(2026, 4, 30, 16, 30)
        assert modes.next_run(SOGAZ.number) is None  # 24/7: nothing to switch
        jobs = modes._scheduler.get_jobs()
        assert len(jobs) == 1 and isinstance(jobs[0].trigger, DateTrigger)  # no polling job
    finally:
        await modes.stop()


async def test_each_switch_through_the_may_holidays_is_at_its_boundary() -> None:
    """Fire the jobs one by one from 30 April to 12 May: every write is at a boundary."""
    pbx, clock = FakePbx(), FakeClock(local(2026, 4, 30, 10))
    modes = make(pbx, clock, FUND)
    await modes.start(paused=True)
    try:
        pbx.writes.clear()
        pbx.stored.clear()
        while clock.now < local(2026, 5, 12, 17, 30):
            await fire(modes, clock, FUND.number)
        switches = [(at.astimezone(BARNAUL).strftime("%d.%m %H:%M"), mode, code)
                    for _, mode, code, _, at in pbx.stored]
    finally:
        await modes.stop()
    assert switches == [
        ("30.04 16:30", "secretary", "after_hours"),
        ("04.05 08:30", "operator", "weekday_hours"),
        ("04.05 17:30", "secretary", "after_hours"),
        ("05.05 08:30", "operator", "weekday_hours"),
        ("05.05 17:30", "secretary", "after_hours"),
        ("06.05 08:30", "operator", "weekday_hours"),
        ("06.05 17:30", "secretary", "after_hours"),
        ("07.05 08:30", "operator", "weekday_hours"),
        ("07.05 17:30", "secretary", "after_hours"),
        ("08.05 08:30", "operator", "shortened_day"),
        ("08.05 15:15", "secretary", "after_hours"),
        ("12.05 08:30", "operator", "weekday_hours"),
        ("12.05 17:30", "secretary", "after_hours"),
    ]
    assert pbx.writes == [(FUND.number, mode) for _, mode, _ in switches]


async def test_a_switch_is_logged() -> None:
    """The switch event names line, mode and reason code."""
    pbx, clock = FakePbx(), FakeClock(local(2026, 6, 11, 9))
    modes = make(pbx, clock, FUND)
    await modes.start(paused=True)
    try:
        with capture_logs() as logs:
            at = await fire(modes, clock, FUND.number)
        assert modes.next_run(FUND.number) == local(2026, 6, 15, 8, 30)  # 12.06 + weekend off
    finally:
        await modes.stop()
    assert at == local(2026, 6, 11, 16, 30)
    switch = next(e for e in logs if e["event"] == "mode.switch")
    assert (switch["line"], switch["mode"], switch["reason"]) == (
        FUND.number, "secretary", "after_hours",
    )


async def test_override_applies_at_once_and_expires_at_its_time() -> None:
    """Secretary forced at 10:00 until 11:00: written now, job at 11:00, operator again."""
    pbx, clock = FakePbx(), FakeClock(local(2026, 5, 5, 10))
    modes = make(pbx, clock, FUND)
    await modes.start(paused=True)
    try:
        override = await modes.set_override(FUND.number, "secretary", local(2026, 5, 5, 11),
                                            by="admin", reason="собрание")
        assert override.since == clock.now
        assert pbx.writes[-1] == (FUND.number, "secretary")
        assert pbx.stored[-1][2] == "override"
        assert modes.next_run(FUND.number) == local(2026, 5, 5, 11)
        assert modes.overrides == (override,)
        await fire(modes, clock, FUND.number)
        assert pbx.writes[-1] == (FUND.number, "operator")
        assert pbx.stored[-1][2:] == ("weekday_hours", "рабочее время 08:30–17:30",
                                      local(2026, 5, 5, 11))
        assert modes.overrides == ()
        assert modes.next_run(FUND.number) == local(2026, 5, 5, 17, 30)
    finally:
        await modes.stop()


async def test_an_override_in_the_same_mode_still_ends_with_the_schedule_reason() -> None:
    """Operator forced over operator hours: at its end the stored reason is the schedule's."""
    pbx, clock = FakePbx(), FakeClock(local(2026, 5, 5, 10))
    modes = make(pbx, clock, FUND)
    await modes.start(paused=True)
    try:
        await modes.set_override(FUND.number, "operator", local(2026, 5, 5, 11), by="admin")
        assert modes.next_run(FUND.number) == local(2026, 5, 5, 11)
        await fire(modes, clock, FUND.number)
        assert pbx.stored[-1][1:3] == ("operator", "weekday_hours")
    finally:
        await modes.stop()


async def test_clear_override_returns_to_the_schedule() -> None:
    """Cancelling an override writes the scheduled mode and its next boundary."""
    pbx, clock = FakePbx(), FakeClock(local(2026, 5, 2, 12))
    modes = make(pbx, clock, FUND)
    await modes.start(paused=True)
    try:
        await modes.set_override(FUND.number, "operator", local(2026, 5, 2, 18), by="admin")
        assert pbx.writes[-1] == (FUND.number, "operator")
        await modes.clear_override(FUND.number, by="admin")
        assert pbx.writes[-1] == (FUND.number, "secretary")
        assert pbx.stored[-1][2] == "weekend"
        assert modes.next_run(FUND.number) == local(2026, 5, 4, 8, 30)
    finally:
        await modes.stop()


async def test_bad_overrides_are_refused() -> None:
    """An override must end in the future and name a known line and mode."""
    pbx, clock = FakePbx(), FakeClock(local(2026, 5, 5, 10))
    modes = make(pbx, clock, FUND)
    await modes.start(paused=True)
    try:
        with pytest.raises(ValueError, match="future"):
            await modes.set_override(FUND.number, "secretary", local(2026, 5, 5, 9), by="a")
        with pytest.raises(KeyError, match="unknown line"):
            await modes.set_override("88000000000", "secretary", local(2026, 5, 5, 11), by="a")
        with pytest.raises(ValueError, match="unknown mode"):
            await modes.set_override(
                FUND.number, "dnd", local(2026, 5, 5, 11), by="a"  # type: ignore[arg-type]
            )
    finally:
        await modes.stop()


async def test_rewrite_all_writes_current_modes_again() -> None:
    """After an AMI reconnect every line's mode is written again, nothing stored."""
    pbx, clock = FakePbx(), FakeClock(local(2026, 5, 1, 10))
    modes = make(pbx, clock)
    await modes.start(paused=True)
    try:
        pbx.writes.clear()
        stored = len(pbx.stored)
        await modes.rewrite_all()
        assert pbx.writes == [(FUND.number, "secretary"), (SOGAZ.number, "operator")]
        assert len(pbx.stored) == stored
    finally:
        await modes.stop()


async def test_a_failed_pbx_write_is_logged_and_the_next_switch_still_scheduled() -> None:
    """AMI down: the error is logged, the switch is stored, the next job is set."""
    pbx, clock = FakePbx(fail_writes=True), FakeClock(local(2026, 5, 4, 8))
    modes = make(pbx, clock, FUND)
    with capture_logs() as logs:
        await modes.start(paused=True)
        try:
            await fire(modes, clock, FUND.number)
        finally:
            await modes.stop()
    assert [e["event"] for e in logs if e["log_level"] == "error"] == ["mode.write_failed"] * 2
    assert [s[1] for s in pbx.stored] == ["secretary", "operator"]


async def test_a_missing_calendar_year_is_warned_about_at_start() -> None:
    """Late in 2027 the 2028 file is missing: a warning at start."""
    pbx, clock = FakePbx(), FakeClock(local(2027, 12, 1, 10))
    modes = make(pbx, clock, FUND)
    with capture_logs() as logs:
        await modes.start(paused=True)
        await modes.stop()
    warning = next(e for e in logs if e["event"] == "mode.calendar_missing")
    assert warning["years"] == [2028]


async def test_real_scheduler_switches_at_the_exact_boundary() -> None:
    """Real time: an override ending 0.3 s from now makes APScheduler switch back on time."""
    pbx = FakePbx()
    modes = make(pbx, utc_now, FUND)
    await modes.start()
    try:
        scheduled = mode_at(FUND, CAL, utc_now()).mode
        forced: Mode = "operator" if scheduled == "secretary" else "secretary"
        until = utc_now() + timedelta(milliseconds=300)
        await modes.set_override(FUND.number, forced, until, by="admin")
        assert pbx.writes[-1] == (FUND.number, forced)
        assert modes.next_run(FUND.number) == until
        pbx.stored_event.clear()
        await asyncio.wait_for(pbx.stored_event.wait(), timeout=5)
        fired_at = pbx.stored[-1][4]
        assert pbx.writes[-1] == (FUND.number, scheduled)
        assert until <= fired_at < until + timedelta(seconds=1)
        assert datetime.now(UTC) >= until
        next_run = modes.next_run(FUND.number)
        assert next_run is not None and next_run > until
    finally:
        await modes.stop()


async def test_the_missing_year_is_warned_about_once_while_running() -> None:
    """Started on 30 October, it warns once when switches come within 60 days of 2028."""
    pbx, clock = FakePbx(), FakeClock(local(2027, 10, 30, 10))
    modes = make(pbx, clock, FUND)
    with capture_logs() as logs:
        await modes.start(paused=True)
        try:
            while clock.now < local(2027, 11, 3):
                await fire(modes, clock, FUND.number)
        finally:
            await modes.stop()
    warnings = [e for e in logs if e["event"] == "mode.calendar_missing"]
    assert [w["years"] for w in warnings] == [[2028]]


async def test_replace_overrides_applies_only_what_changed() -> None:
    """Overrides read from the database: a new one switches, the same set again does nothing."""
    pbx, clock = FakePbx(), FakeClock(local(2026, 5, 5, 10))
    modes = make(pbx, clock)
    await modes.start(paused=True)
    try:
        override = Override(FUND.number, "secretary", local(2026, 5, 5, 12), set_by="admin",
                            since=local(2026, 5, 5, 9))
        expired = Override(SOGAZ.number, "secretary", local(2026, 5, 5, 9), set_by="admin")
        pbx.writes.clear()
        await modes.replace_overrides([override, expired])
        assert pbx.writes == [(FUND.number, "secretary")]
        assert modes.next_run(FUND.number) == local(2026, 5, 5, 12)
        await modes.replace_overrides([override])
        assert pbx.writes == [(FUND.number, "secretary")]
        await modes.replace_overrides([])
        assert pbx.writes[-1] == (FUND.number, "operator")
        assert modes.next_run(FUND.number) == local(2026, 5, 5, 17, 30)
    finally:
        await modes.stop()
