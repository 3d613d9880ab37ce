"""Retention destroys expired audio only, and audits each destruction with its rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from hotline.recordings.retention import destroy_expired
from hotline.recordings.worker import RecordingWorker
from journal.models import AuditEntry, Recording
from tests.support.audio import add_call, real, tone


async def test_expired_audio_is_destroyed_and_each_destruction_audited(
    sessions, storage, rec_settings, tmp_path
) -> None:
    settings = rec_settings.model_copy(update={"audio_retention_days": 30, "keep_wav": True})
    now = datetime.now(UTC)
    real(settings.pbx_dir / "old.wav")
    tone(settings.pbx_dir / "new.wav")
    tone(settings.pbx_dir / "old-unprocessed.wav")
    _, old = await add_call(sessions, "old.wav", created_at=now - timedelta(days=31))
    _, new = await add_call(sessions, "new.wav", created_at=now - timedelta(days=29))
    await RecordingWorker(sessions, storage, settings, timezone="UTC", work_dir=tmp_path / "w").sweep()
    _, raw = await add_call(sessions, "old-unprocessed.wav", created_at=now - timedelta(days=40))
    async with sessions() as session:
        old_path = await session.scalar(select(Recording.stored_path).where(Recording.id == old))

    destroyed = await destroy_expired(sessions, storage, settings, now=now)

    assert sorted(d.recording_id for d in destroyed) == sorted([old, raw])
    assert not storage.exists(old_path) and not storage.exists(old_path[:-4] + ".wav")
    assert not (settings.pbx_dir / "old-unprocessed.wav").exists()
    async with sessions() as session:
        rows = {r.id: r for r in (await session.scalars(select(Recording))).all()}
        audit = (await session.scalars(select(AuditEntry).where(AuditEntry.action == "destroy"))).all()
    assert rows[old].status == "destroyed" and rows[old].destroyed_at is not None
    assert rows[new].status == "stored" and storage.exists(rows[new].stored_path)
    assert sorted(int(a.object_id) for a in audit) == sorted([old, raw])
    assert all(a.details["rule"] == "recordings.audio_retention_days=30" for a in audit)
    assert all(a.login == "system:retention" and a.object_type == "recording" for a in audit)
    assert await destroy_expired(sessions, storage, settings, now=now) == []  # once only
