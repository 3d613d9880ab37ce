"""The worker on PostgreSQL and SQLite: real files in, stored recordings (or clear errors) out."""

from __future__ import annotations

import errno
from pathlib import Path


from hotline.config import RecordingsSettings
from hotline.recordings.playback import open_verified
from hotline.recordings.storage import LocalStorage
from hotline.recordings.worker import RecordingWorker
from tests.support.audio import add_call, not_a_wav, real, recording_row, silence


def make_worker(sessions, storage, settings: RecordingsSettings, tmp_path: Path) -> RecordingWorker:
    return RecordingWorker(sessions, storage, settings, timezone="Asia/Barnaul",
                           work_dir=tmp_path / "work", retry_base=0.0)


async def test_a_real_call_recording_is_stored_verified_and_linked(
    sessions, storage: LocalStorage, rec_settings: RecordingsSettings, tmp_path: Path
) -> None:
    """Asterisk's WAV → Ogg/Opus in YYYY/MM/DD, checksum, duration; the spool original goes."""
    source = real(rec_settings.pbx_dir / "hotline/20261123/1795444523.2.wav")
    _, rec_id = await add_call(sessions, "hotline/20261123/1795444523.2.wav")
    worker = make_worker(sessions, storage, rec_settings, tmp_path)
    assert await worker.sweep() == 1
    row = await recording_row(sessions, rec_id)
    assert row.status == "stored" and row.problem is None and row.format == "ogg"
    assert row.stored_path.endswith(f"{rec_id:08d}-1795444523.2.ogg")
    assert row.stored_path.split("/")[0].isdigit() and len(row.stored_path.split("/")) == 4
    assert abs(row.duration_seconds - 5.98) < 0.01 and row.silence_ratio < 0.5
    assert row.size_bytes == storage.size(row.stored_path) and row.processed_at is not None
    with open_verified(storage, row) as stream:
        assert stream.read(4) == b"OggS"
    assert not source.exists()
    assert await worker.sweep() == 0  # stored is final


async def test_keep_wav_stores_the_original_too(sessions, storage, rec_settings, tmp_path) -> None:
    settings = rec_settings.model_copy(update={"keep_wav": True, "format": "mp3"})
    real(settings.pbx_dir / "hotline/msg-1.wav")
    _, rec_id = await add_call(sessions, "hotline/msg-1.wav", kind="message", outcome="secretary")
    await make_worker(sessions, storage, settings, tmp_path).sweep()
    row = await recording_row(sessions, rec_id)
    assert row.status == "stored" and row.stored_path.endswith(".mp3")
    assert storage.exists(row.stored_path[:-4] + ".wav")


async def test_a_corrupt_wav_keeps_the_original_and_is_retried(
    sessions, storage, rec_settings, tmp_path
) -> None:
    source = not_a_wav(rec_settings.pbx_dir / "hotline/x/1.wav")
    _, rec_id = await add_call(sessions, "hotline/x/1.wav")
    worker = make_worker(sessions, storage, rec_settings, tmp_path)
    await worker.sweep()
    row = await recording_row(sessions, rec_id)
    assert row.status == "corrupt" and "не WAV" in row.problem and row.stored_path is None
    assert source.exists()
    real(source)  # the PBX's file is repaired: the next attempt succeeds
    await worker.sweep()
    assert (await recording_row(sessions, rec_id)).status == "stored"


class FullDisk(LocalStorage):
    """A storage whose disk is full until `full` is cleared."""

    full = True

    def put(self, source: Path, key: str) -> int:
        if self.full:
            raise OSError(errno.ENOSPC, "No space left on device")
        return super().put(source, key)


async def test_a_full_disk_is_a_clear_error_then_a_retry_succeeds(
    sessions, rec_settings, tmp_path
) -> None:
    storage = FullDisk(tmp_path / "recordings")
    source = real(rec_settings.pbx_dir / "hotline/20261123/7.wav")
    _, rec_id = await add_call(sessions, "hotline/20261123/7.wav")
    worker = make_worker(sessions, storage, rec_settings, tmp_path)
    assert await worker.process(rec_id) == "failed"
    row = await recording_row(sessions, rec_id)
    assert row.status == "failed" and "нет места на диске" in row.problem
    assert source.exists() and not list(storage.keys())
    assert not list((tmp_path / "work").glob("*"))  # no half-written copies left behind
    storage.full = False
    await worker.sweep()
    row = await recording_row(sessions, rec_id)
    assert row.status == "stored" and row.problem is None and storage.exists(row.stored_path)


async def test_missing_ffmpeg_and_missing_file(sessions, storage, rec_settings, tmp_path) -> None:
    settings = rec_settings.model_copy(update={"ffmpeg": "/nonexistent/ffmpeg"})
    real(settings.pbx_dir / "a.wav")
    _, with_file = await add_call(sessions, "a.wav")
    _, without = await add_call(sessions, "b.wav")
    await make_worker(sessions, storage, settings, tmp_path).sweep()
    assert (await recording_row(sessions, with_file)).status == "failed"
    assert "ffmpeg" in (await recording_row(sessions, with_file)).problem
    assert (await recording_row(sessions, without)).status == "missing"
    assert (settings.pbx_dir / "a.wav").exists()


async def test_silence_is_stored_with_a_note(sessions, storage, rec_settings, tmp_path) -> None:
    silence(rec_settings.pbx_dir / "s.wav", 3.0)
    _, rec_id = await add_call(sessions, "s.wav")
    await make_worker(sessions, storage, rec_settings, tmp_path).sweep()
    row = await recording_row(sessions, rec_id)
    assert row.status == "stored" and row.silence_ratio == 1.0 and "тишина" in row.problem


async def test_a_call_that_ends_has_its_own_recording_stored_without_a_sweep_of_all(
    sessions, storage: LocalStorage, rec_settings: RecordingsSettings, tmp_path: Path
) -> None:
    """A hangup wakes the worker for that call's recordings only: one still waiting for
    another call (its call ended on another instance, say) waits for the periodic sweep,
    so a storage outage's backlog is not listed again at every hangup of a busy hour."""
    import asyncio
    from datetime import UTC, datetime

    from hotline.pbx.events import CallEnded
    from journal.models import Call

    worker = RecordingWorker(sessions, storage, rec_settings, timezone="Asia/Barnaul",
                             work_dir=tmp_path / "work", sweep_interval=3600)
    await worker.start()
    try:
        await asyncio.sleep(0.2)  # the start-up sweep: nothing waits yet
        real(rec_settings.pbx_dir / "hotline/other.wav")
        _, other_id = await add_call(sessions, "hotline/other.wav")
        real(rec_settings.pbx_dir / "hotline/mine.wav")
        call_id, mine_id = await add_call(sessions, "hotline/mine.wav")
        async with sessions() as session:
            call = await session.get(Call, call_id)
            assert call is not None
            pbx_call_id = call.pbx_call_id
        worker.on_events([CallEnded(call_id=pbx_call_id, at=datetime.now(UTC), cause=16,
                                    cause_text="Normal Clearing", outcome="completed")])
        async with asyncio.timeout(20):
            while (await recording_row(sessions, mine_id)).status != "stored":
                await asyncio.sleep(0.05)
        assert (await recording_row(sessions, other_id)).status == "pending"
        worker.wake()  # the periodic sweep, brought forward
        async with asyncio.timeout(20):
            while (await recording_row(sessions, other_id)).status != "stored":
                await asyncio.sleep(0.05)
    finally:
        await worker.stop()
