"""Reading back what the service wrote of simulated calls: calls by caller, a call's timeline, waiting for a condition."""

from __future__ import annotations

import asyncio

from aiohttp import web
from sqlalchemy import select

from hotline.web.keys import SESSIONS
from journal.models import Call, CallEvent


async def calls_by_caller(app: web.Application) -> dict[str, Call]:
    async with app[SESSIONS]() as session:
        return {c.caller_number: c for c in (await session.scalars(select(Call))).all()}


OPERATOR = "PJSIP/op1100"  # the insurer's first level-1 phone


async def until(predicate, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


async def timeline(app: web.Application, call_id: int) -> list[str]:
    """The call's story in the journal, in order (the recording's start left out)."""
    async with app[SESSIONS]() as session:
        kinds = await session.scalars(
            select(CallEvent.kind).where(CallEvent.call_id == call_id).order_by(CallEvent.at, CallEvent.id)
        )
        return [kind for kind in kinds if kind != "recording_started"]

