"""Reading back who played or downloaded a recording, from the access log."""

from __future__ import annotations

from sqlalchemy import select
from hotline.web.keys import SESSIONS
from journal.models import AuditEntry
from tests.support.api import Api


async def playback_audits(api: Api) -> list[AuditEntry]:
    async with api.app[SESSIONS]() as session:
        return list(await session.scalars(
            select(AuditEntry).where(AuditEntry.object_type == "recording",
                                     AuditEntry.action.in_(("play", "download")))
            .order_by(AuditEntry.id)
        ))

