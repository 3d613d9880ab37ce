"""`/api/v1/reports`: the morning deadline digest (the latest one the scheduler built).

Access is the reports' rule (`journal.access.report_scope`): the administrator sees every
organization's lists, an organization's staff their own organization's only. Showing the
digest is written to the audit log like any report.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from hotline.reports.digest import Digest
from hotline.web.common import actor_of, iso
from hotline.web.keys import DIGEST, SESSIONS
from journal import audit
from journal.access import report_scope
from journal.db import unit_of_work
from journal.reports.deadlines import OrgDeadlines


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


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/reports/digest", digest)
