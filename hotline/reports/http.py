"""`/api/v1/reports`: the reports as JSON, XLSX or CSV, and the morning deadline digest.

`GET /api/v1/reports/pg|calls|quality?period=2026Q3&org=CODE&format=json|xlsx|csv` (quality
also `by=month|week`), `GET /api/v1/reports/deadlines?within=3&org=CODE&format=json|csv` and
`GET /api/v1/reports/digest` (the latest digest the scheduler built).

Access is the reports' rule (`journal.access.report_scope`): the administrator sees every
organization, an organization's staff their own organization only (asking for another is
403). Every report, and every showing of the digest, is written to the audit log.
"""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Any

from aiohttp import web
from sqlalchemy import select
from openpyxl import Workbook

from hotline.reports.digest import Digest
from hotline.reports.runs import (
    ReportContext,
    call_key_names,
    organization_id,
    run_calls,
    run_deadlines,
    run_pg,
    run_quality,
    run_pbx_calls,
    run_queue_callbacks,
)
from hotline.web.common import actor_of, int_param, iso
from hotline.web.keys import CALENDAR, SESSIONS, SETTINGS
from hotline.keys import DIGEST
from journal import audit
from journal.access import report_scope
from journal.db import unit_of_work
from journal.errors import InvalidInput
from journal.reports.calls import CallStats
from journal.reports.deadlines import OrgDeadlines
from journal.models import Organization
from journal.reports.export import (
    add_queue_callbacks_sheet,
    calls_workbook,
    pg_workbook,
    quality_workbook,
    write_calls_csv,
    write_deadlines_csv,
    write_pg_csv,
    write_quality_csv,
)
from journal.reports.period import Period
from journal.reports.queue_callbacks import HEADERS as QUEUE_CALLBACK_HEADERS
from journal.reports.pg import PgReport, PgRow
from journal.reports.quality import Bucket, QualityReport

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = ("json", "xlsx", "csv")


def _org_json(org: OrgDeadlines) -> dict[str, Any]:
    return {
        "organization": org.organization_code,
        "organization_id": org.organization_id,
        "cards_overdue": org.overdue_cards,
        "callbacks_overdue": org.overdue_callbacks,
        "cards": [{
            "id": c.card_id, "number": c.number, "appeal_type": c.appeal_type, "status": c.status,
            "due_date": c.due_date.isoformat(), "overdue": c.overdue,
        } for c in org.cards],
        "callbacks": [{
            "id": cb.task_id, "card_number": cb.card_number, "due_at": iso(cb.due_at),
            "status": cb.status, "overdue": cb.overdue,
        } for cb in org.callbacks],
    }


def digest_json(digest: Digest, scope: int | None) -> dict[str, Any]:
    """The digest as JSON, with only the organization `scope` (None: every one)."""
    return {
        "built_at": iso(digest.built_at),
        "day": digest.day.isoformat(),
        "within_days": digest.within_days,
        "organizations": [_org_json(o) for o in digest.organizations
                          if scope is None or o.organization_id == scope],
    }


async def digest(request: web.Request) -> web.Response:
    """The latest morning digest; built now if the service has not built one since it started."""
    actor = actor_of(request)
    scope = report_scope(actor)
    job = request.app[DIGEST]
    latest = job.latest or await job.build()
    async with unit_of_work(request.app[SESSIONS]) as db:
        await audit.record(db, actor, audit.AuditAction.EXPORT, "report", "digest",
                           {"day": latest.day.isoformat(), "organization_id": scope})
    return web.json_response(digest_json(latest, scope))


def report_context(app: web.Application) -> ReportContext:
    return ReportContext(app[SETTINGS], app[CALENDAR])


def period_json(period: Period) -> dict[str, Any]:
    return {"label": period.label, "title": period.title, "first": period.first.isoformat(),
            "after": period.after.isoformat()}


def _row_json(row: PgRow, codes: dict[int, str]) -> dict[str, Any]:
    return {"code": row.code, "title": row.title, "depth": row.depth, "all": asdict(row.all),
            "organizations": {codes[k]: asdict(v) for k, v in row.cells.items() if k in codes}}


def pg_json(report: PgReport) -> dict[str, Any]:
    codes = {o.id: o.code for o in report.organizations}
    return {
        "period": period_json(report.period),
        "organizations": [asdict(o) for o in report.organizations],
        "table_1_1": [_row_json(r, codes) for r in report.table_1_1],
        "table_1_2": [_row_json(r, codes) for r in report.table_1_2],
    }


def calls_json(period: Period, sections: dict[str, list[CallStats]]) -> dict[str, Any]:
    return {"period": period_json(period),
            "sections": {name: [{**asdict(r), "other": r.other} for r in rows]
                         for name, rows in sections.items()}}


def quality_json(report: QualityReport) -> dict[str, Any]:
    return {
        "period": period_json(report.period),
        "by": str(report.bucket),
        "buckets": [b.isoformat() for b in report.buckets],
        "operators": [asdict(o) for o in report.operators],
        "criteria": report.criteria,
        "scores": [{"bucket": iso(b), "operator_id": op, "criterion": criterion,
                    "evaluations": score.count, "average": score.average}
                   for (b, op, criterion), score in sorted(
                       report.scores.items(), key=lambda kv: (str(kv[0][0]), str(kv[0][1]), str(kv[0][2])))],
    }


def _format(request: web.Request, allowed: tuple[str, ...] = FORMATS) -> str:
    fmt = request.query.get("format", "json")
    if fmt not in allowed:
        raise InvalidInput(f"Формат «{fmt}» не поддерживается: {', '.join(allowed)}", field="format")
    return fmt


def _download(body: bytes, content_type: str, filename: str) -> web.Response:
    return web.Response(body=body, content_type=content_type, headers={
        "Content-Disposition": f'attachment; filename="{filename}"'})


def xlsx_response(workbook: Workbook, filename: str) -> web.Response:
    buf = io.BytesIO()
    workbook.save(buf)
    return _download(buf.getvalue(), XLSX, filename)


def csv_response(write: Callable[[io.StringIO], None], filename: str) -> web.Response:
    """CSV in UTF-8 with a BOM, so that Excel opens the Cyrillic right (as the CLI writes it)."""
    out = io.StringIO()
    write(out)
    response = _download(("\ufeff" + out.getvalue()).encode("utf-8"), "text/csv", filename)
    response.charset = "utf-8"
    return response


Run = Callable[..., Awaitable[Any]]  # run_pg, run_calls, run_quality (hotline.reports.runs)


async def _run(request: web.Request, run: Run, **kwargs: Any) -> tuple[Period, Any]:
    """The report of `?period=` (and `?org=`) as the signed-in user may see it."""
    ctx = report_context(request.app)
    text = request.query.get("period", "")
    if not text:
        raise InvalidInput("Укажите период: месяц (2026-10), квартал (2026Q3) или год (2026)",
                           field="period")
    period = ctx.period(text)
    async with unit_of_work(request.app[SESSIONS]) as db:
        org_id = await organization_id(db, request.query.get("org"))
        return period, await run(db, actor_of(request), ctx, period, org_id, **kwargs)


async def pg(request: web.Request) -> web.Response:
    """Form ПГ tables 1.1 and 1.2."""
    fmt = _format(request)
    period, report = await _run(request, run_pg)
    if fmt == "xlsx":
        return xlsx_response(pg_workbook(report), f"pg-{period.label}.xlsx")
    if fmt == "csv":
        return csv_response(lambda out: write_pg_csv(report, out), f"pg-{period.label}.csv")
    return web.json_response(pg_json(report))


async def calls(request: web.Request) -> web.Response:
    """Call statistics against the lines' working hours, every section."""
    fmt = _format(request)
    period, sections = await _run(request, run_calls)
    _, asked = await _run(request, run_queue_callbacks)
    _, by_pbx = await _run(request, run_pbx_calls)
    if fmt in ("xlsx", "csv"):
        async with request.app[SESSIONS]() as db:
            names = await call_key_names(db, sections)
            orgs = dict((await db.execute(select(Organization.id, Organization.name))).all())
    if fmt == "xlsx":
        workbook = calls_workbook(f"Статистика звонков за {period.title}", sections, names)
        add_queue_callbacks_sheet(workbook, f"Обратные звонки, заказанные из очереди, за "
                                  f"{period.title}", asked, orgs)
        return xlsx_response(workbook, f"calls-{period.label}.xlsx")
    if fmt == "csv":
        return csv_response(lambda out: write_calls_csv(sections, out, names),
                            f"calls-{period.label}.csv")
    return web.json_response(calls_json(period, sections) | {
        "queue_callbacks": [asdict(r) for r in asked],
        "queue_callbacks_titles": QUEUE_CALLBACK_HEADERS,
        # Incoming calls by PBX (site): its title, offered, answered, abandoned, secretary.
        "pbxs": by_pbx})


async def quality(request: web.Request) -> web.Response:
    """Operators' evaluation scores by month or week (`by`)."""
    fmt = _format(request)
    by = request.query.get("by", "month")
    if by not in {b.value for b in Bucket}:
        raise InvalidInput("«by»: month или week", field="by")
    period, report = await _run(request, run_quality, bucket=Bucket(by))
    if fmt == "xlsx":
        titles = {c.code: c.title for c in request.app[SETTINGS].evaluation.criteria}
        return xlsx_response(quality_workbook(report, titles), f"quality-{period.label}.xlsx")
    if fmt == "csv":
        return csv_response(lambda out: write_quality_csv(report, out), f"quality-{period.label}.csv")
    return web.json_response(quality_json(report))


async def deadlines_report(request: web.Request) -> web.Response:
    """Open cards overdue or due within `within` days, callbacks not yet made."""
    fmt = _format(request, ("json", "csv"))
    within = int_param(request.query.get("within"), "within", default=3)
    if not 0 <= within <= 60:
        raise InvalidInput("«within»: от 0 до 60 дней", field="within")
    ctx = report_context(request.app)
    async with unit_of_work(request.app[SESSIONS]) as db:
        org_id = await organization_id(db, request.query.get("org"))
        orgs = await run_deadlines(db, actor_of(request), ctx, org_id, within_days=within)
    if fmt == "csv":
        return csv_response(lambda out: write_deadlines_csv(orgs, out), "deadlines.csv")
    return web.json_response({"within_days": within, "organizations": [_org_json(o) for o in orgs]})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/reports/pg", pg)
    app.router.add_get("/api/v1/reports/calls", calls)
    app.router.add_get("/api/v1/reports/quality", quality)
    app.router.add_get("/api/v1/reports/deadlines", deadlines_report)
    app.router.add_get("/api/v1/reports/digest", digest)
