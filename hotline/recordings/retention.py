"""Retention (сроки хранения): expired audio is destroyed, each destruction audited.

Audio and cards have separate periods (`[recordings] audio_retention_days`,
`card_retention_years`). Cards (РКК) are never deleted by this service; audio older than its
period is removed from the storage (and from the PBX spool if it never left it), the recording
row stays as evidence with status "destroyed", and an audit row says what, when and by which rule.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hotline.config import RecordingsSettings
from hotline.recordings.audio import AudioProblem
from hotline.recordings.spools import Spools, source_path
from hotline.recordings.storage import RecordingStorage
from journal.actors import Actor
from journal.audit import AuditAction, record
from journal.db import unit_of_work
from journal.models import Call, Recording
from journal.clock import utc_now

log = structlog.get_logger(__name__)

RETENTION = Actor.system("retention")


@dataclass(frozen=True, slots=True)
class Destroyed:
    recording_id: int
    keys: tuple[str, ...]


def audio_rule(settings: RecordingsSettings) -> str:
    return f"recordings.audio_retention_days={settings.audio_retention_days}"


async def destroy_expired(
    sessions: async_sessionmaker[AsyncSession],
    storage: RecordingStorage,
    settings: RecordingsSettings,
    *,
    now: datetime | None = None,
    spools: Spools | None = None,
) -> list[Destroyed]:
    """Destroy the audio of every recording older than the audio retention period; a file
    still in a PBX's spool is removed from the spool of its call's PBX (`spools`; one PBX:
    `[recordings] pbx_dir`)."""
    now = now or utc_now()
    spools = spools if spools is not None else Spools(settings.pbx_dir)
    cutoff = now - timedelta(days=settings.audio_retention_days)
    async with sessions() as session:
        ids = list(await session.scalars(
            select(Recording.id)
            .where(Recording.status != "destroyed", Recording.created_at < cutoff)
            .order_by(Recording.id)
        ))
    done = []
    for recording_id in ids:
        try:
            destroyed = await _destroy_one(sessions, storage, settings, spools, recording_id, now)
        except Exception as exc:  # the next run tries again
            log.warning("recording not destroyed", recording_id=recording_id, error=repr(exc)[:300])
            continue
        if destroyed is not None:
            done.append(destroyed)
    return done


async def _destroy_one(
    sessions: async_sessionmaker[AsyncSession],
    storage: RecordingStorage,
    settings: RecordingsSettings,
    spools: Spools,
    recording_id: int,
    now: datetime,
) -> Destroyed | None:
    """Files first, then the row and its audit entry in one transaction: a failure in between
    leaves a "stored" row without its file, which reconciliation reports and the next run ends."""
    async with unit_of_work(sessions) as session:
        row = await session.get(Recording, recording_id)
        if row is None or row.status == "destroyed":
            return None
        keys = [k for k in (row.stored_path,) if k]
        if row.stored_path:
            keys.append(str(Path(row.stored_path).with_suffix(".wav")))
        pbx = await session.scalar(select(Call.pbx).where(Call.id == row.call_id)) if row.call_id else None
        removed = await asyncio.to_thread(_remove, storage, keys, spools.dir_of(pbx), row.pbx_file)
        await record(session, RETENTION, AuditAction.DESTROY, "recording", row.id, {
            "rule": audio_rule(settings),
            "call_id": row.call_id,
            "card_id": row.card_id,
            "kind": row.kind,
            "recorded_at": row.created_at.isoformat(),
            "files": removed,
            "sha256": row.sha256,
            "previous_status": row.status,
        }, at=now)
        row.status, row.destroyed_at = "destroyed", now
        row.problem = f"уничтожена по сроку хранения ({audio_rule(settings)})"
    log.info("recording destroyed", recording_id=recording_id, files=removed)
    return Destroyed(recording_id, tuple(removed))


def _remove(storage: RecordingStorage, keys: list[str], pbx_dir: Path, pbx_file: str) -> list[str]:
    removed = [key for key in keys if storage.delete(key)]
    try:
        source = source_path(pbx_dir, pbx_file)
    except AudioProblem:
        return removed
    if source.is_file():
        source.unlink()
        removed.append(f"pbx:{pbx_file}")
    return removed
