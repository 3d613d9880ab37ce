"""`hotline calendar show`, `hotline mode show`, `hotline mode set`."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from hotline.modes.calendar_table import MODE_LABELS, format_calendar
from hotline.cli.support import CliError, Context, fail_cleanly, open_journal, pass_context, run_async
from hotline.config import Line, Settings
from hotline.modes.store import active_overrides, add_override, last_switches
from hotline.modes.schedule import Mode, mode_at, next_switch
from journal.calendar import CalendarError, ProductionCalendar, load_calendar_dir
from journal.clock import utc_now


def load_calendar(settings: Settings) -> ProductionCalendar:
    try:
        return load_calendar_dir(settings.service.calendar_dir)
    except CalendarError as exc:
        raise CliError(str(exc)) from None  # «календарь <file>, день …: <reason>»


def _line(settings: Settings, number: str) -> Line:
    try:
        return settings.line(number)
    except KeyError:
        known = ", ".join(ln.number for ln in settings.lines)
        raise CliError(f"линия {number} не найдена в конфигурации (есть: {known})") from None


@click.group("calendar")
def calendar() -> None:
    """Производственный календарь и режимы линий."""


@calendar.command("show")
@click.option("--line", "number", required=True, help="Номер линии 8-800.")
@click.option("--from", "start", required=True, type=click.DateTime(["%Y-%m-%d"]), help="С даты (ГГГГ-ММ-ДД).")
@click.option("--to", "end", required=True, type=click.DateTime(["%Y-%m-%d"]), help="По дату включительно.")
@click.option("--with-overrides/--schedule-only", default=True, show_default=True,
              help="Учитывать ручные режимы из базы данных.")
@pass_context
@fail_cleanly
def calendar_show(ctx: Context, number: str, start: datetime, end: datetime,
                  with_overrides: bool) -> None:
    """Интервалы режимов линии (оператор / автосекретарь) с причинами."""
    settings = ctx.settings
    line = _line(settings, number)
    if end.date() < start.date():
        raise CliError("дата окончания раньше даты начала")
    cal = load_calendar(settings)
    overrides = []
    if with_overrides:
        async def go() -> list:
            async with open_journal(settings) as sessions:
                return await active_overrides(sessions, utc_now())

        overrides = [o for o in run_async(go()) if o.line == number]
    click.echo(format_calendar(line, cal, start.date(), end.date(), overrides), nl=False)


@click.group("mode")
def mode() -> None:
    """Режим линий: оператор или автосекретарь."""


@mode.command("show")
@pass_context
@fail_cleanly
def mode_show(ctx: Context) -> None:
    """Текущий режим каждой линии, причина, следующее переключение."""
    settings = ctx.settings
    cal = load_calendar(settings)
    now = utc_now()

    async def go() -> tuple[list, dict]:
        async with open_journal(settings) as sessions:
            overrides = await active_overrides(sessions, now)
            async with sessions() as session:
                return overrides, await last_switches(session)

    overrides, stored = run_async(go())
    for line in settings.lines:
        own = [o for o in overrides if o.line == line.number]
        state = mode_at(line, cal, now, own)
        upcoming = next_switch(line, cal, now, own)
        nxt = (
            f"{upcoming.at.astimezone(line.zone):%d.%m.%Y %H:%M} → {MODE_LABELS[upcoming.mode]}"
            if upcoming else "не ожидается"
        )
        written = stored.get(line.number)
        pbx = (
            f"{MODE_LABELS.get(written.mode, written.mode)} с "
            f"{written.at.astimezone(line.zone):%d.%m.%Y %H:%M}"
            if written else "ещё не записан"
        )
        click.echo(
            f"{line.number}  {MODE_LABELS[state.mode]:<13}  {state.reason.text}\n"
            f"    следующее переключение: {nxt}; в АТС записан: {pbx}"
        )


@mode.command("set")
@click.option("--line", "number", required=True, help="Номер линии 8-800.")
@click.option("--mode", "mode_name", required=True, type=click.Choice(["operator", "secretary"]))
@click.option("--until", "until", required=True,
              help="До какого времени (ISO, например 2026-12-31T18:00; без зоны — время линии).")
@click.option("--by", "set_by", default="admin", show_default=True, help="Кто устанавливает (логин).")
@click.option("--reason", default="", help="Причина (видна в журнале режимов).")
@pass_context
@fail_cleanly
def mode_set(ctx: Context, number: str, mode_name: Mode, until: str, set_by: str, reason: str) -> None:
    """Принудительно включить режим линии до указанного времени."""
    settings = ctx.settings
    line = _line(settings, number)
    try:
        moment = datetime.fromisoformat(until)
    except ValueError:
        raise CliError(f"--until: «{until}» не похоже на время ISO (2026-12-31T18:00)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=line.zone)

    async def go() -> None:
        async with open_journal(settings) as sessions:
            await add_override(sessions, line=number, mode=mode_name, until=moment.astimezone(UTC),
                               now=utc_now(), set_by=set_by, reason=reason)

    run_async(go())
    click.echo(
        f"Линия {number}: режим «{MODE_LABELS[mode_name]}» до "
        f"{moment.astimezone(line.zone):%d.%m.%Y %H:%M} ({line.timezone}). "
        "Работающая служба применит его в течение нескольких секунд."
    )
