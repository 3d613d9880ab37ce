"""The call statistics by PBX (АТС: a site, or a region sharing the journal): how many
citizens' calls each PBX took in a period, and how many were answered and lost.

Read from the calls themselves (`calls.pbx`, index `ix_calls_pbx_started`), not from the
daily roll-up, which has no PBX key: the counts only, the figures that add up across PBXs.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from journal.access import report_scope
from journal.actors import Actor
from journal.models import Call
from journal.reports.period import Period


@dataclass(frozen=True, slots=True)
class PbxCalls:
    """One PBX's incoming calls of the period."""

    pbx: str
    offered: int
    answered: int
    abandoned: int
    secretary: int


async def calls_by_pbx(session: AsyncSession, actor: Actor, period: Period,
                       organization_id: int | None = None) -> list[PbxCalls]:
    """Each PBX's incoming calls in the period (of one organization, or the actor's own)."""
    scope = report_scope(actor, organization_id)
    conditions = [Call.direction == "in", Call.started_at >= period.start,
                  Call.started_at < period.end]
    if scope is not None:
        conditions.append(Call.organization_id == scope)

    def counted(outcome: str) -> ColumnElement[int]:
        return func.coalesce(func.sum(case((Call.outcome == outcome, 1), else_=0)), 0)

    rows = await session.execute(
        select(Call.pbx, func.count(), counted("answered"), counted("abandoned"),
               counted("secretary"))
        .where(*conditions).group_by(Call.pbx).order_by(Call.pbx))
    return [PbxCalls(pbx, int(offered), int(answered), int(abandoned), int(secretary))
            for pbx, offered, answered, abandoned, secretary in rows.all()]
