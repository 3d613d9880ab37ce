"""`/admin/reports`: the administrator's report pages, rendered on the server.

One page, four reports (`?report=pg|calls|deadlines|quality`), a period picker (the last
months, quarters and years), an organization filter, the tables, the SVG charts inline (they
print as they are shown) and links to the XLSX/CSV downloads of `/api/v1/reports/...`. The
figures come from the same runs as the API and the CLI, with the same access rule and audit.
Unlike the operators' pages, nothing here is live, so no script is needed: the filters are a
plain GET form.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from markupsafe import Markup
from sqlalchemy import select

from hotline.reports import figures
from hotline.reports.runs import (
    ReportContext,
    organization_id,
    run_calls,
    run_pbx_calls,
    run_queue_callbacks,
    run_deadlines,
    run_pg,
    run_quality,
)
from hotline.web.keys import CALENDAR, SESSIONS, SETTINGS
from hotline.web.pages import SUPERVISING, PageUser, add_nav, add_page, render, render_error
from journal.actors import Actor
from journal.db import unit_of_work
from journal.errors import Forbidden, InvalidInput
from journal.models import Organization, User
from journal.reports.calls import CallStats
from journal.reports.export import (
    ALL_OPERATORS,
    CALL_HEADERS,
    PHONE_HINT,
    TOTAL_CRITERION,
    bucket_title,
    row_label,
)
from journal.reports.period import MONTH_NAMES, Period
from journal.reports.queue_callbacks import HEADERS as QUEUE_CALLBACK_HEADERS
from journal.reports.quality import ALL, Bucket, QualityReport
from journal.clock import utc_now

PATH = "/admin/reports"
# The board's alerts over a period have their own page (hotline/alerts), among the reports' tabs.
ALERTS_PATH = "/admin/alerts"
REPORTS = {"pg": "Форма ПГ", "calls": "Звонки", "deadlines": "Сроки", "quality": "Качество"}
DOWNLOADS = {"pg": ("xlsx", "csv"), "calls": ("xlsx", "csv"), "deadlines": ("csv",),
             "quality": ("xlsx", "csv")}
SHOWN_CALL_SECTIONS = ("итого", "линии", "организации", "операторы")
WEEKDAY_NAMES = ("понедельник", "вторник", "среда", "четверг", "пятница", "суббота", "воскресенье")


@dataclass(frozen=True, slots=True)
class PeriodChoice:
    value: str
    title: str


def period_choices(today: date) -> dict[str, list[PeriodChoice]]:
    """The picker's options: the last 12 months, 8 quarters and 3 years, newest first."""
    months, quarters = [], []
    year, month = today.year, today.month
    for _ in range(12):
        months.append(PeriodChoice(f"{year}-{month:02d}", f"{MONTH_NAMES[month - 1]} {year}"))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    year, quarter = today.year, (today.month - 1) // 3 + 1
    for _ in range(8):
        quarters.append(PeriodChoice(f"{year}Q{quarter}",
                                     f"{('I', 'II', 'III', 'IV')[quarter - 1]} квартал {year}"))
        year, quarter = (year, quarter - 1) if quarter > 1 else (year - 1, 4)
    years = [PeriodChoice(str(today.year - i), f"{today.year - i} год") for i in range(3)]
    return {"Месяцы": months, "Кварталы": quarters, "Годы": years}


def _default_period(today: date) -> str:
    return f"{today.year}Q{(today.month - 1) // 3 + 1}"


def _svg(text: str) -> Markup:
    """Our own SVG (every label escaped by `charts`): safe to inline as it is."""
    return Markup(text)


async def _actor(request: web.Request, user: PageUser) -> Actor:
    async with request.app[SESSIONS]() as db:
        row = await db.get(User, user.id)
    if row is None:  # the account was deleted since the page's session began
        raise web.HTTPForbidden()
    return Actor.of(row, request.remote)


async def _operator_names(db: Any, ids: set[Any]) -> dict[Any, str]:
    """Operators' full names by user id (the call statistics key them by id)."""
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    rows = await db.execute(select(User.id, User.full_name).where(User.id.in_(ids)))
    return dict(rows.all())


def _call_rows(sections: dict[str, list[CallStats]], names: dict[str, dict[Any, str]]) -> list[dict]:
    """The shown sections as table rows with readable keys, as the downloads name them
    (row_label): in the operators' section a row per phone that answered with no operator's
    account («телефон op102»), and «никем не принят» for the calls nobody answered."""
    out = []
    for section in SHOWN_CALL_SECTIONS:
        for stats in sections.get(section, []):
            out.append({"section": section, "label": str(row_label(section, stats, names)),
                        "hint": PHONE_HINT if stats.phone else None, "stats": stats})
    return out


async def _pg_context(request: web.Request, db: Any, actor: Actor, ctx: ReportContext,
                      period: Period, org_id: int | None) -> dict[str, Any]:
    report = await run_pg(db, actor, ctx, period, org_id)
    groups = ([("Всего", None)] if len(report.organizations) != 1 else []) + [
        (o.name, o.id) for o in report.organizations]
    appeals = report.row("1.1", "1").all.total
    return {"pg": report, "groups": groups,
            "charts": [_svg(figures.pg_types(report)), _svg(figures.pg_topics(report))]
            if appeals else []}


async def _calls_context(request: web.Request, db: Any, actor: Actor, ctx: ReportContext,
                         period: Period, org_id: int | None) -> dict[str, Any]:
    sections = await run_calls(db, actor, ctx, period, org_id)
    orgs = {o.code: o.name for o in ctx.settings.organizations}
    org_names = {}
    for org_db_id, code in (await db.execute(select(Organization.id, Organization.code))).all():
        org_names[org_db_id] = orgs.get(code, code)
    lines = {ln.number: f"{ln.number} ({orgs.get(ln.organization, ln.organization)})"
             for ln in ctx.settings.lines}
    ops = await _operator_names(db, {s.key for s in sections["операторы"]})
    names = {"линии": lines, "организации": org_names, "операторы": ops}
    rows = _call_rows(sections, names)
    asked = await run_queue_callbacks(db, actor, ctx, period, org_id)
    # Several PBXs (sites): each one's incoming calls, by its title.
    by_pbx = (await run_pbx_calls(db, actor, ctx, period, org_id)
              if len(ctx.settings.pbxs) > 1 else [])
    return {
        "call_rows": rows, "call_headers": CALL_HEADERS, "pbx_rows": by_pbx,
        "queue_callbacks": [r.values(org_names.get(r.organization_id, "")) for r in asked],
        "queue_callback_headers": QUEUE_CALLBACK_HEADERS,
        "charts": [
            _svg(figures.calls_by_line(sections["линии"], period.title, lines)),
            _svg(figures.calls_by_hour(sections["часы"], period.title)),
            _svg(figures.calls_by_weekday(sections["дни недели"], period.title)),
        ] if rows else [],
    }


async def _deadlines_context(request: web.Request, db: Any, actor: Actor, ctx: ReportContext,
                             period: Period, org_id: int | None) -> dict[str, Any]:
    within = 3
    orgs = await run_deadlines(db, actor, ctx, org_id, within_days=within, now=utc_now())
    names = {o.code: o.name for o in ctx.settings.organizations}
    return {"deadline_orgs": orgs, "org_names": names, "within": within,
            "charts": [_svg(figures.deadlines_chart(orgs, names))] if orgs else []}


async def _quality_context(request: web.Request, db: Any, actor: Actor, ctx: ReportContext,
                           period: Period, org_id: int | None) -> dict[str, Any]:
    by = request.query.get("by", "month")
    bucket = Bucket(by) if by in {b.value for b in Bucket} else Bucket.MONTH
    report: QualityReport = await run_quality(db, actor, ctx, period, org_id, bucket=bucket)
    who = [(o.id, o.name, o.organization_code) for o in report.operators] + [(ALL, ALL_OPERATORS, "")]
    columns = [(bucket_title(report.bucket, b), b) for b in report.buckets] + [("За период", ALL)]
    titles = {c.code: c.title for c in ctx.settings.evaluation.criteria}
    return {"quality": report, "who": who, "columns": columns, "total_criterion": TOTAL_CRITERION,
            "criterion_titles": titles,
            "by": bucket.value,
            "charts": [_svg(figures.quality_chart(report))] if report.buckets else []}


BUILDERS = {"pg": _pg_context, "calls": _calls_context, "deadlines": _deadlines_context,
            "quality": _quality_context}


async def reports_page(request: web.Request, user: PageUser) -> web.StreamResponse:
    settings = request.app[SETTINGS]
    ctx = ReportContext(settings, request.app[CALENDAR])
    today = utc_now().astimezone(ctx.zone).date()
    report = request.query.get("report", "pg")
    if report not in REPORTS:
        report = "pg"
    period_text = request.query.get("period") or _default_period(today)
    org_code = request.query.get("org") or ""
    try:
        period = ctx.period(period_text)
        actor = await _actor(request, user)
        async with unit_of_work(request.app[SESSIONS]) as db:
            org_id = await organization_id(db, org_code or None)
            data = await BUILDERS[report](request, db, actor, ctx, period, org_id)
    except InvalidInput as exc:
        return render_error(request, 422, "Неверные параметры отчёта", str(exc), user)
    except Forbidden as exc:
        return render_error(request, 403, "Доступ запрещён", str(exc), user)
    query = {"period": period.label, **({"org": org_code} if org_code else {})}
    if report == "quality":
        query["by"] = data["by"]
    downloads = [(fmt.upper(), f"/api/v1/reports/{report}?{urlencode({**query, 'format': fmt})}")
                 for fmt in DOWNLOADS[report]]
    tabs = [(key, title, f"{PATH}?{urlencode({'report': key, 'period': period.label, 'org': org_code})}")
            for key, title in REPORTS.items()]
    tabs.append(("alerts", "Оповещения", ALERTS_PATH))
    return render(
        request, "reports.html", user, title=f"Отчёты: {REPORTS[report]}",
        report=report, reports=REPORTS, tabs=tabs, period=period, periods=period_choices(today),
        organizations=settings.organizations, org=org_code, downloads=downloads,
        weekday_names=WEEKDAY_NAMES, **data,
    )


def add_routes(app: web.Application) -> None:
    add_nav(app, PATH, "Отчёты", SUPERVISING)
    add_page(app, PATH, reports_page, SUPERVISING)
