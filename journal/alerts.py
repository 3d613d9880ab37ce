"""The alerts of the live board as the journal keeps them («Оповещения за период»).

An alert is one row: written when raised, completed when cleared. Who reads them: the
administrator every alert, an organization's supervisor its own organization's and the
center-wide ones (the PBX link); nobody else. No personal data is in an alert.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from journal.actors import Actor
from journal.errors import Forbidden
from journal.models import AlertRecord, Organization, Role


async def record_raised(session: AsyncSession, alert: dict[str, Any], organization_id: int | None
                        ) -> int:
    """Store a raised alert (`hotline.alerts.rules.Alert.as_json()`); its row id."""
    row = AlertRecord(
        kind=alert["kind"], scope_kind=alert["scope_kind"], scope_code=alert["scope_code"],
        organization_id=organization_id, title=alert["title"], text=alert["text"],
        value=alert["value"], worst=alert["worst"], threshold=alert["threshold"],
        raised_at=datetime.fromisoformat(alert["raised_at"]), cleared_by="")
    session.add(row)
    await session.flush()
    return row.id


async def record_cleared(session: AsyncSession, row_id: int, alert: dict[str, Any]) -> None:
    await session.execute(update(AlertRecord).where(AlertRecord.id == row_id).values(
        cleared_at=datetime.fromisoformat(alert["cleared_at"]), worst=alert["worst"],
        text=alert["text"], cleared_by="cleared"))


async def close_left_open(session: AsyncSession, at: datetime) -> int:
    """Alerts a stopped service left active: closed at its start (`cleared_by` "restart")."""
    result = await session.execute(update(AlertRecord).where(AlertRecord.cleared_at.is_(None))
                                   .values(cleared_at=at, cleared_by="restart"))
    return cast("CursorResult[Any]", result).rowcount or 0


def may_read_alerts(actor: Actor) -> bool:
    return actor.is_admin or (actor.role == Role.SUPERVISOR and actor.organization_id is not None)


async def alerts_between(session: AsyncSession, actor: Actor, since: datetime, until: datetime
                         ) -> dict[str, Any]:
    """Alerts active at some moment of [since, until), newest first, and how many of each kind."""
    if not may_read_alerts(actor):
        raise Forbidden("Оповещения доступны администратору и руководителям операторов")
    stmt = (select(AlertRecord, Organization.code)
            .outerjoin(Organization, Organization.id == AlertRecord.organization_id)
            .where(AlertRecord.raised_at < until,
                   or_(AlertRecord.cleared_at.is_(None), AlertRecord.cleared_at >= since))
            .order_by(AlertRecord.raised_at.desc()).limit(2000))
    if not actor.is_admin:
        stmt = stmt.where(or_(AlertRecord.organization_id == actor.organization_id,
                              AlertRecord.organization_id.is_(None)))
    rows = (await session.execute(stmt)).all()
    items = [{"id": r.id, "kind": r.kind, "title": r.title, "text": r.text,
              "organization": code, "scope_kind": r.scope_kind, "scope_code": r.scope_code,
              "raised_at": r.raised_at, "cleared_at": r.cleared_at, "cleared_by": r.cleared_by}
             for r, code in rows]
    return {"items": items, "counts": Counter(i["title"] for i in items)}
