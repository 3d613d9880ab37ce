"""Writers of the reports: XLSX laid out like form ПГ (openpyxl) and CSV.

They take the already aggregated report objects; no database access here.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import IO

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from journal.reports.calls import CallStats
from journal.reports.deadlines import OrgDeadlines
from journal.reports.period import MONTH_NAMES
from journal.reports.pg import Cell, PgReport, PgRow, ReportOrg
from journal.reports.quality import ALL, TOTAL, Bucket, QualityReport
from journal.reports.queue_callbacks import HEADERS as QUEUE_CALLBACK_HEADERS
from journal.reports.queue_callbacks import QueueCallbackStats

HEADER_ROW = 4  # the organization (column group) names; sub-columns on the next row
FIRST_DATA_ROW = 6
COLUMNS_1_1 = (("total", "всего"), ("oral", "устно"), ("written", "письменно"),
               ("justified", "обоснованных"))
COLUMNS_1_2 = (("total", "всего"), ("justified", "обоснованных"))
TITLE_1_1 = "Таблица 1.1. Обращения граждан по видам и кодам тематики"
TITLE_1_2 = "Таблица 1.2. Жалобы по причинам"
CALL_HEADERS = {
    "key": "группа", "in_hours": "в рабочее время", "offered": "поступило",
    "answered": "принято", "abandoned": "потеряно", "secretary": "сообщений автосекретарю",
    "in_progress": "ещё идут", "other": "прочие (сброшены до очереди, прерваны)",
    "abandoned_wait_avg": "ожидание до сброса, с",
    "answered_20s": "принято за 20 с", "answered_60s": "принято за 60 с",
    "wait_avg": "ожидание среднее, с", "wait_p90": "ожидание 90-й перцентиль, с",
    "talk_avg": "разговор средний, с", "transferred_l2": "переведено на 2 уровень",
    "called_back": "перезвонили",
    "callback_delay_avg": "перезвон через, рабочих с",
}


def _groups(report: PgReport) -> list[tuple[str, int | None]]:
    """Column groups: all organizations together, then each one (fund first)."""
    groups: list[tuple[str, int | None]] = []
    if len(report.organizations) != 1:
        groups.append(("Всего", None))
    groups.extend((org.name, org.id) for org in report.organizations)
    return groups


def _cell(row: PgRow, org_id: int | None) -> Cell:
    return row.all if org_id is None else row.cell(org_id)


def _table_sheet(ws: Worksheet, title: str, report: PgReport, rows: Sequence[PgRow],
                 columns: Sequence[tuple[str, str]]) -> None:
    bold = Font(bold=True)
    ws.cell(1, 1, f"Форма ПГ. {title}").font = bold
    ws.cell(2, 1, f"за {report.period.title}")
    ws.cell(HEADER_ROW, 1, "Код").font = bold
    ws.cell(HEADER_ROW, 2, "Наименование").font = bold
    ws.merge_cells(start_row=HEADER_ROW, start_column=1, end_row=HEADER_ROW + 1, end_column=1)
    ws.merge_cells(start_row=HEADER_ROW, start_column=2, end_row=HEADER_ROW + 1, end_column=2)
    col = 3
    for name, _ in _groups(report):
        ws.cell(HEADER_ROW, col, name).font = bold
        ws.cell(HEADER_ROW, col).alignment = Alignment(wrap_text=True, horizontal="center")
        ws.merge_cells(start_row=HEADER_ROW, start_column=col,
                       end_row=HEADER_ROW, end_column=col + len(columns) - 1)
        for i, (_, label) in enumerate(columns):
            ws.cell(HEADER_ROW + 1, col + i, label)
        col += len(columns)
    for r, row in enumerate(rows, start=FIRST_DATA_ROW):
        ws.cell(r, 1, row.code)
        ws.cell(r, 2, row.title).alignment = Alignment(indent=max(row.depth, 0), wrap_text=True)
        if row.depth <= 0:
            ws.cell(r, 1).font = ws.cell(r, 2).font = bold
        col = 3
        for _, org_id in _groups(report):
            cell = _cell(row, org_id)
            for i, (attr, _) in enumerate(columns):
                ws.cell(r, col + i, getattr(cell, attr))
            col += len(columns)
    ws.column_dimensions["A"].width = 8
    ws.column_dimensions["B"].width = 60
    for c in range(3, col):
        ws.column_dimensions[get_column_letter(c)].width = 12
    ws.freeze_panes = f"{get_column_letter(3)}{FIRST_DATA_ROW}"


def _first_sheet(wb: Workbook) -> Worksheet:
    """The sheet a new workbook comes with."""
    ws = wb.active
    if not isinstance(ws, Worksheet):
        raise TypeError(f"a new workbook's first sheet is a {type(ws).__name__}")
    return ws


def pg_workbook(report: PgReport) -> Workbook:
    """Tables 1.1 and 1.2 on two sheets, codes in column A, a column group per organization."""
    wb = Workbook()
    ws = _first_sheet(wb)
    ws.title = "1.1"
    _table_sheet(ws, TITLE_1_1, report, report.table_1_1, COLUMNS_1_1)
    _table_sheet(wb.create_sheet("1.2"), TITLE_1_2, report, report.table_1_2, COLUMNS_1_2)
    return wb


def write_pg_xlsx(report: PgReport, path: Path | str) -> None:
    pg_workbook(report).save(path)


def _org_label(orgs: Iterable[ReportOrg], org_id: int | None) -> str:
    return "all" if org_id is None else next(o.code for o in orgs if o.id == org_id)


def write_pg_csv(report: PgReport, out: IO[str]) -> None:
    """Long format: one line per table, code and organization ("all" for the total)."""
    writer = csv.writer(out)
    writer.writerow(["table", "code", "title", "organization", "total", "oral", "written",
                     "justified"])
    for table, rows in (("1.1", report.table_1_1), ("1.2", report.table_1_2)):
        for row in rows:
            for _, org_id in _groups(report):
                cell = _cell(row, org_id)
                writer.writerow([table, row.code, row.title, _org_label(report.organizations, org_id),
                                 cell.total, cell.oral, cell.written, cell.justified])


def _stats_values(stats: CallStats) -> list[object]:
    return [getattr(stats, name) for name in CALL_HEADERS]


WEEKDAY_NAMES = ("понедельник", "вторник", "среда", "четверг", "пятница", "суббота",
                 "воскресенье")
ALL_CALLS = "все звонки"
# Sections whose keys are a weekday (1 Monday .. 7 Sunday) or an hour of the day.
WEEKDAY_SECTIONS = frozenset({"дни недели", "weekday"})
HOUR_SECTIONS = frozenset({"часы", "hour"})


def key_label(section: str, key: object, names: Mapping[object, str] | None = None) -> object:
    """A row's key as a person reads it in the sheet: «все звонки», an organization's or an
    operator's name (from `names`, by database id), «понедельник», «09:00–10:00»."""
    if key == "all":
        return ALL_CALLS
    if names and key in names:
        return names[key]
    if section in WEEKDAY_SECTIONS and isinstance(key, int) and 1 <= key <= 7:
        return WEEKDAY_NAMES[key - 1]
    if section in HOUR_SECTIONS and isinstance(key, int):
        return f"{key:02d}:00–{(key + 1) % 24:02d}:00"
    if key is None:
        return "—"
    return key


# What a row without a key is in each section: calls of no line or organization known, and
# in the operators' section the calls nobody answered (those answered at a phone with no
# operator's account have rows of their phones: phone_label).
NO_KEY = {"линии": "линия не определена", "организации": "организация не определена",
          "операторы": "никем не принят", "line": "линия не определена",
          "organization": "организация не определена", "operator": "никем не принят"}
PHONE_HINT = "принят на этом телефоне без учётной записи оператора"


def phone_label(interface: str) -> str:
    """A phone as the region's staff name it: «телефон op102» for "PJSIP/op102" (the
    endpoint's name in config/hotline.toml, without the channel technology)."""
    return f"телефон {interface.rpartition('/')[2] or interface}"


def row_label(section: str, stats: CallStats,
              names: Mapping[str, Mapping[object, str]] | None = None) -> object:
    """A row's group as a person reads it: the key's name (key_label), a phone that answered
    with no operator's account («телефон op102»), or what a row without a key holds."""
    if stats.phone:
        return phone_label(stats.phone)
    if stats.key is None and section in NO_KEY:
        return NO_KEY[section]
    return key_label(section, stats.key, (names or {}).get(section))


def calls_workbook(title: str, sections: Mapping[str, Sequence[CallStats]],
                   names: Mapping[str, Mapping[object, str]] | None = None) -> Workbook:
    """One sheet per dimension (line, organization, operator, hour, weekday), in Russian
    (call_values)."""
    wb = Workbook()
    wb.remove(_first_sheet(wb))
    for name, rows in sections.items():
        ws = wb.create_sheet(name)
        ws.cell(1, 1, title).font = Font(bold=True)
        ws.append([])
        ws.append(list(CALL_HEADERS.values()))
        for stats in rows:
            ws.append(call_values(name, stats, names))
    return wb


def add_queue_callbacks_sheet(wb: Workbook, title: str, rows: Sequence[QueueCallbackStats],
                              orgs: Mapping[int, str]) -> None:
    """The callbacks asked from the queue (journal.reports.queue_callbacks) on a sheet of their
    own, in Russian."""
    ws = wb.create_sheet("из очереди")
    ws.cell(1, 1, title).font = Font(bold=True)
    ws.append([])
    ws.append(list(QUEUE_CALLBACK_HEADERS.values()))
    for r in rows:
        ws.append(r.values(orgs.get(r.organization_id, str(r.organization_id))))


def call_values(section: str, stats: CallStats,
                names: Mapping[str, Mapping[object, str]] | None = None) -> list[object]:
    """A row of the calls report as a person reads it, the same in every format: the key by
    name (`names[section]`: lines, organizations and operators; a phone answered with no
    operator's account as «телефон op102»), «да»/«нет» for working hours, never «all», True
    or a database id."""
    values = _stats_values(stats)
    values[0] = row_label(section, stats, names)
    values[1] = "да" if stats.in_hours else "нет"
    return values


def write_calls_csv(sections: Mapping[str, Sequence[CallStats]], out: IO[str],
                    names: Mapping[str, Mapping[object, str]] | None = None) -> None:
    """One line per row of every section (the sheets of calls_workbook, one after another)."""
    writer = csv.writer(out)
    writer.writerow(["раздел", *CALL_HEADERS.values()])
    for name, rows in sections.items():
        for stats in rows:
            writer.writerow([name, *call_values(name, stats, names)])


def write_deadlines_csv(orgs: Sequence[OrgDeadlines], out: IO[str]) -> None:
    writer = csv.writer(out)
    writer.writerow(["organization", "what", "number", "due", "status", "overdue"])
    for org in orgs:
        for card in org.cards:
            writer.writerow([org.organization_code, "card", card.number, card.due_date.isoformat(),
                             card.status, int(card.overdue)])
        for cb in org.callbacks:
            writer.writerow([org.organization_code, "callback", cb.card_number,
                             cb.due_at.isoformat(), cb.status, int(cb.overdue)])




TOTAL_CRITERION = "Итог листа оценки"
ALL_OPERATORS = "Все операторы"


def bucket_title(bucket: Bucket, start: date | None) -> str:
    """A column of the quality report: "июль 2026", "нед. с 06.07.2026" or the whole period."""
    if start is None:
        return "За период"
    if bucket == Bucket.MONTH:
        return f"{MONTH_NAMES[start.month - 1]} {start.year}"
    return f"нед. с {start:%d.%m.%Y}"


def _quality_lines(report: QualityReport) -> list[tuple[int | None, str, str, str | None]]:
    """(operator id or ALL, operator, organization, criterion or TOTAL) in the sheet's order."""
    who: list[tuple[int | None, str, str]] = [
        (o.id, o.name, o.organization_code) for o in report.operators]
    who.append((ALL, ALL_OPERATORS, ""))
    return [(op, name, org, criterion)
            for op, name, org in who for criterion in (TOTAL, *report.criteria)]


def quality_workbook(report: QualityReport,
                     criterion_titles: Mapping[str, str] | None = None) -> Workbook:
    """One sheet: an operator's total and criteria on rows, months or weeks in column pairs.

    Criteria are stored by code; `criterion_titles` gives their Russian titles (the sheet's
    configuration), a code without one is shown as it is.
    """
    titles = criterion_titles or {}
    wb = Workbook()
    ws = _first_sheet(wb)
    ws.title = "Качество"
    bold = Font(bold=True)
    ws.cell(1, 1, f"Оценки качества работы операторов за {report.period.title}").font = bold
    for col, title in enumerate(("Оператор", "Организация", "Критерий"), start=1):
        ws.cell(HEADER_ROW, col, title).font = bold
        ws.merge_cells(start_row=HEADER_ROW, start_column=col, end_row=HEADER_ROW + 1, end_column=col)
    columns = [*report.buckets, ALL]
    for i, start in enumerate(columns):
        col = 4 + 2 * i
        ws.cell(HEADER_ROW, col, bucket_title(report.bucket, start)).font = bold
        ws.merge_cells(start_row=HEADER_ROW, start_column=col, end_row=HEADER_ROW, end_column=col + 1)
        ws.cell(HEADER_ROW + 1, col, "оценок")
        ws.cell(HEADER_ROW + 1, col + 1, "в среднем")
    for r, (op, name, org, criterion) in enumerate(_quality_lines(report), start=FIRST_DATA_ROW):
        ws.cell(r, 1, name)
        ws.cell(r, 2, org)
        ws.cell(r, 3, TOTAL_CRITERION if criterion is TOTAL else titles.get(criterion, criterion))
        if criterion is TOTAL:
            ws.cell(r, 1).font = ws.cell(r, 3).font = bold
        for i, start in enumerate(columns):
            score = report.score(start, op, criterion)
            ws.cell(r, 4 + 2 * i, score.count)
            ws.cell(r, 5 + 2 * i, score.average)
    ws.column_dimensions["A"].width = 30
    ws.column_dimensions["B"].width = 12
    ws.column_dimensions["C"].width = 24
    ws.freeze_panes = f"{get_column_letter(4)}{FIRST_DATA_ROW}"
    return wb


def write_quality_csv(report: QualityReport, out: IO[str]) -> None:
    """Long format: one line per period (ISO first day, "period" for the whole), operator
    ("all" for every operator) and criterion ("total" for the sheet's total)."""
    writer = csv.writer(out)
    writer.writerow(["period", "operator_id", "operator", "organization", "criterion",
                     "evaluations", "average"])
    for start in (*report.buckets, ALL):
        for op, name, org, criterion in _quality_lines(report):
            score = report.score(start, op, criterion)
            if score.count:
                writer.writerow([
                    "period" if start is None else start.isoformat(),
                    "all" if op is None else op, name, org,
                    "total" if criterion is None else criterion, score.count, score.average,
                ])
