"""`hotline report pg|calls|deadlines|surveys|quality`: the journal's reports to XLSX/CSV.

The CLI runs on the server with the administrator's reach (`Actor.system("cli")`): it sees
every organization, or the one given with --org. Each report is audited as an export.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, TypeVar
from zoneinfo import ZoneInfo

import click
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.cli.support import CliError, Context, fail_cleanly, open_journal, pass_context, run_async
from hotline.config import Settings
from hotline.reports.runs import CALL_SECTIONS, call_key_names
from journal.actors import Actor
from journal.db import unit_of_work
from journal.models import Organization
from journal.reports.calls import call_sections
from journal.reports.deadlines import deadlines
from journal.reports.export import (
    calls_workbook,
    pg_workbook,
    quality_workbook,
    write_calls_csv,
    write_deadlines_csv,
    write_pg_csv,
    write_quality_csv,
)
from journal.reports.pg import pg_report
from journal.reports.quality import Bucket, quality_report
from journal.reports.surveys import SCORES, survey_report
from journal.reports.period import Period, parse_period
from journal.clock import utc_now

CLI_ACTOR = Actor.system("cli")
F = TypeVar("F", bound=Callable[..., Any])


def _period(settings: Settings, quarter: str | None, month: str | None, year: str | None) -> Period:
    given = [p for p in (quarter, month, year) if p]
    if len(given) != 1:
        raise CliError("укажите ровно один период: --quarter 2026Q3, --month 2026-10 или --year 2026")
    return parse_period(given[0], ZoneInfo(settings.service.timezone))


async def _org_id(session: AsyncSession, code: str | None) -> int | None:
    if code is None:
        return None
    org_id = await session.scalar(select(Organization.id).where(Organization.code == code))
    if org_id is None:
        raise CliError(f"организация {code} не найдена")
    return org_id


SUFFIXES = {".xlsx": "xlsx", ".csv": "csv"}


def _format(out: str, fmt: str | None, allowed: tuple[str, ...] = ("xlsx", "csv")) -> str:
    """The report's format: `--format`, else the file's extension (`-`: CSV on the screen).
    A file named for another format (`--out x.pdf`, `--format csv --out x.xlsx`) or in a
    folder that does not exist is refused before anything is read."""
    if out == "-":
        if (fmt or "csv") != "csv":
            raise CliError("на экран (--out -) выводится только CSV")
        return "csv"
    path = Path(out)
    named = SUFFIXES.get(path.suffix.lower())
    if named is None or named not in allowed:
        kinds = " или ".join(f".{a}" for a in allowed)
        raise CliError(f"--out {out}: отчёт записывается в файл {kinds}")
    if fmt and fmt != named:
        raise CliError(f"--out {out}: расширение файла не совпадает с --format {fmt}")
    if not path.parent.is_dir():
        raise CliError(f"--out {out}: папки {path.parent} нет")
    return named


def period_options(func: F) -> F:
    """--year, --month and --quarter (one of them is required by `_period`)."""
    for option in (
        click.option("--year", help="Год: 2026."),
        click.option("--month", help="Месяц: 2026-10."),
        click.option("--quarter", help="Квартал: 2026Q3."),
    ):
        func = option(func)
    return func


def _output_options(func: F) -> F:
    func = click.option("--format", "fmt", type=click.Choice(["xlsx", "csv"]),
                        help="Формат (по умолчанию по расширению файла).")(func)
    return click.option("--out", required=True, help="Файл отчёта (.xlsx или .csv; - для CSV на экран).")(func)


def _write_csv(out: str, write: Callable[[IO[str]], None]) -> None:
    if out == "-":
        write(sys.stdout)
        return
    with Path(out).open("w", encoding="utf-8-sig", newline="") as fh:
        write(fh)


@click.group("report")
def report() -> None:
    """Отчёты: форма ПГ, статистика звонков, сроки рассмотрения, опросы, качество."""


@report.command("pg")
@period_options
@click.option("--org", "org_code", help="Только одна организация (код из конфигурации).")
@_output_options
@pass_context
@fail_cleanly
def report_pg(ctx: Context, quarter: str | None, month: str | None, year: str | None,
              org_code: str | None, out: str, fmt: str | None) -> None:
    """Форма ПГ, таблицы 1.1 и 1.2, за месяц, квартал или год."""
    fmt = _format(out, fmt)
    settings = ctx.settings
    period = _period(settings, quarter, month, year)

    async def go():
        async with open_journal(settings) as sessions, unit_of_work(sessions) as session:
            return await pg_report(session, CLI_ACTOR, period, await _org_id(session, org_code))

    result = run_async(go())
    if _format(out, fmt) == "csv":
        _write_csv(out, lambda fh: write_pg_csv(result, fh))
    else:
        pg_workbook(result).save(out)
    if out != "-":
        click.echo(f"Форма ПГ за {period.title}: {out}")


@report.command("calls")
@period_options
@click.option("--org", "org_code", help="Только одна организация (код из конфигурации).")
@_output_options
@pass_context
@fail_cleanly
def report_calls(ctx: Context, quarter: str | None, month: str | None, year: str | None,
                 org_code: str | None, out: str, fmt: str | None) -> None:
    """Статистика звонков по линиям, организациям, операторам, часам и дням недели."""
    from hotline.modes.cli import load_calendar
    from hotline.reports.hours import level2_queues, operator_hours

    fmt = _format(out, fmt)
    settings = ctx.settings
    period = _period(settings, quarter, month, year)
    hours = operator_hours(settings, load_calendar(settings), period)

    async def go():
        async with open_journal(settings) as sessions, unit_of_work(sessions) as session:
            org_id = await _org_id(session, org_code)
            by_dim = await call_sections(session, CLI_ACTOR, period, hours,
                                         list(CALL_SECTIONS.values()), organization_id=org_id,
                                         level2_queues=level2_queues(settings))
            sections = {name: by_dim[dim] for name, dim in CALL_SECTIONS.items()}
            return sections, await call_key_names(session, sections)

    sections, names = run_async(go())
    if _format(out, fmt) == "csv":
        _write_csv(out, lambda fh: write_calls_csv(sections, fh, names))
    else:
        calls_workbook(f"Статистика звонков за {period.title}", sections, names).save(out)
    if out != "-":
        click.echo(f"Статистика звонков за {period.title}: {out}")


@report.command("deadlines")
@click.option("--within", "within_days", type=click.IntRange(0, 60), default=3, show_default=True,
              help="Срок ответа истекает в ближайшие N дней.")
@click.option("--org", "org_code", help="Только одна организация (код из конфигурации).")
@click.option("--out", default="-", show_default=True, help="CSV-файл (- на экран).")
@pass_context
@fail_cleanly
def report_deadlines(ctx: Context, within_days: int, org_code: str | None, out: str) -> None:
    """Просроченные и истекающие обращения, отложенные ответы без обратного звонка."""
    _format(out, None, allowed=("csv",))
    settings = ctx.settings
    now = utc_now()
    today = now.astimezone(ZoneInfo(settings.service.timezone)).date()

    async def go():
        async with open_journal(settings) as sessions, unit_of_work(sessions) as session:
            return await deadlines(session, CLI_ACTOR, today, now, within_days=within_days,
                                   organization_id=await _org_id(session, org_code))

    orgs = run_async(go())
    _write_csv(out, lambda fh: write_deadlines_csv(orgs, fh))


@report.command("surveys")
@period_options
@click.option("--org", "org_code", help="Только одна организация (код из конфигурации).")
@click.option("--out", default="-", show_default=True, help="CSV-файл (- на экран).")
@pass_context
@fail_cleanly
def report_surveys(ctx: Context, quarter: str | None, month: str | None, year: str | None,
                   org_code: str | None, out: str) -> None:
    """Оценки граждан по итогам опросов: по организациям и баллам."""
    _format(out, None, allowed=("csv",))
    settings = ctx.settings
    period = _period(settings, quarter, month, year)

    async def go():
        async with open_journal(settings) as sessions, unit_of_work(sessions) as session:
            return await survey_report(session, CLI_ACTOR, period,
                                       await _org_id(session, org_code))

    rows = run_async(go())

    def write(fh: IO[str]) -> None:
        writer = csv.writer(fh)
        writer.writerow(["Организация", *(f"Оценка {s}" for s in SCORES), "Всего", "Средняя"])
        for row in rows:
            average = "" if row.average is None else f"{row.average:.2f}"
            writer.writerow([row.name, *(row.counts[s] for s in SCORES), row.total, average])

    _write_csv(out, write)


@report.command("quality")
@period_options
@click.option("--org", "org_code", help="Только операторы одной организации (код из конфигурации).")
@click.option("--by", "bucket", type=click.Choice([b.value for b in Bucket]), default="month",
              show_default=True, help="Разбивка периода: по месяцам или неделям.")
@_output_options
@pass_context
@fail_cleanly
def report_quality(ctx: Context, quarter: str | None, month: str | None, year: str | None,
                   org_code: str | None, bucket: str, out: str, fmt: str | None) -> None:
    """Оценки качества работы операторов по месяцам или неделям: по операторам и критериям."""
    fmt = _format(out, fmt)
    settings = ctx.settings
    period = _period(settings, quarter, month, year)

    async def go():
        async with open_journal(settings) as sessions, unit_of_work(sessions) as session:
            return await quality_report(session, CLI_ACTOR, period,
                                        await _org_id(session, org_code), bucket=Bucket(bucket))

    result = run_async(go())
    if _format(out, fmt) == "csv":
        _write_csv(out, lambda fh: write_quality_csv(result, fh))
    else:
        titles = {c.code: c.title for c in settings.evaluation.criteria}
        quality_workbook(result, titles).save(out)
    if out != "-":
        click.echo(f"Оценки качества за {period.title}: {out}")
