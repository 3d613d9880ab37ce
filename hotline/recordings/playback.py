"""Playing a stored recording: the checksum is verified every time, each play is audited."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.recordings.storage import RecordingStorage
from journal.actors import Actor
from journal.audit import AuditAction, record
from journal.models import AuditEntry, Recording
from journal.clock import utc_now

_CHUNK = 1 << 20
# Range requests of one user for one recording within this time are one listen.
LISTEN_WINDOW = timedelta(minutes=15)


class RecordingUnavailable(Exception):
    """The recording has no stored audio (not processed yet, faulty or destroyed)."""


class RecordingTampered(Exception):
    """The stored bytes do not match the checksum taken when the recording was stored."""


def open_verified(storage: RecordingStorage, recording: Recording) -> BinaryIO:
    """A stream of the stored audio, positioned at its start, after its SHA-256 was checked.

    The check reads the same open file that is returned, so a file swapped on disk after the
    check cannot be served. Blocking: run it in a thread for large files.
    """
    key = recording.stored_path
    if recording.status == "destroyed" or not key or not recording.sha256:
        raise RecordingUnavailable(f"запись {recording.id}: нет сохранённого звука ({recording.status})")
    try:
        stream = storage.open(key)
    except FileNotFoundError:
        raise RecordingUnavailable(f"запись {recording.id}: файл {key} не найден") from None
    digest = hashlib.sha256()
    while chunk := stream.read(_CHUNK):
        digest.update(chunk)
    if digest.hexdigest() != recording.sha256:
        stream.close()
        raise RecordingTampered(f"запись {recording.id}: контрольная сумма {key} не совпадает")
    stream.seek(0)
    return stream


async def audit_playback(
    session: AsyncSession, actor: Actor, recording: Recording, *, download: bool = False,
    seek: bool = False, now: datetime | None = None,
) -> None:
    """Log one listen or download in the caller's transaction (152-ФЗ: who heard what).

    A player fetches one listen in several byte ranges (a seek is a new request): a request
    that starts past the first byte (`seek`) continues the listen this user began within
    `LISTEN_WINDOW` and is not logged again; a request from the start is a new listen.
    """
    if seek and not download:
        since = (now or utc_now()) - LISTEN_WINDOW
        recent = await session.scalar(
            select(AuditEntry.id).where(
                AuditEntry.action == AuditAction.PLAY, AuditEntry.object_type == "recording",
                AuditEntry.object_id == str(recording.id), AuditEntry.user_id == actor.user_id,
                AuditEntry.at >= since,
            ).limit(1)
        )
        if recent is not None:
            return
    await record(
        session, actor, AuditAction.DOWNLOAD if download else AuditAction.PLAY, "recording",
        recording.id, {"call_id": recording.call_id, "card_id": recording.card_id,
                       "sha256": recording.sha256},
    )
