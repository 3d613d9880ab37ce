"""Reconciliation finds every planted fault and flags it on the recording."""

from __future__ import annotations

from sqlalchemy import select

from hotline.recordings.reconcile import Reconciler
from hotline.recordings.worker import RecordingWorker
from journal.models import Recording
from tests.support.audio import add_call, not_a_wav, real, silence, tone, truncated, zero_bytes


async def test_every_planted_fault_is_found_and_flagged(sessions, storage, rec_settings, tmp_path) -> None:
    pbx = rec_settings.pbx_dir
    worker = RecordingWorker(sessions, storage, rec_settings, timezone="UTC", work_dir=tmp_path / "w")
    # Stored and sound; then one stored file is altered, one removed, one is silence.
    real(pbx / "good.wav")
    tone(pbx / "altered.wav")
    tone(pbx / "removed.wav")
    silence(pbx / "quiet.wav")
    _, good = await add_call(sessions, "good.wav")
    _, altered = await add_call(sessions, "altered.wav")
    _, removed = await add_call(sessions, "removed.wav")
    _, quiet = await add_call(sessions, "quiet.wav")
    await worker.sweep()
    async with sessions() as session:
        paths = dict((await session.execute(select(Recording.id, Recording.stored_path))).all())
    target = storage.path(paths[altered])
    target.chmod(0o644)
    target.write_bytes(target.read_bytes() + b"tampered")
    storage.path(paths[removed]).unlink()
    # Never processed: broken files in the PBX spool, and a file the journal never heard of.
    zero_bytes(pbx / "zero.wav")
    truncated(pbx / "cut.wav")
    not_a_wav(pbx / "text.wav")
    tone(pbx / "hotline/orphan.wav")
    _, zero = await add_call(sessions, "zero.wav")
    _, cut = await add_call(sessions, "cut.wav")
    _, text = await add_call(sessions, "text.wav")
    _, gone = await add_call(sessions, "never-written.wav")
    unrecorded_call, _ = await add_call(sessions, None)  # answered, but no recording at all
    await add_call(sessions, None, outcome="abandoned")  # needs no audio
    storage.put(pbx / "hotline/orphan.wav", "2026/01/01/stray.ogg")

    faults = await Reconciler(sessions, storage, rec_settings).run()

    found = {(f.kind, f.recording_id, f.path) for f in faults}
    assert {(k, r) for k, r, _ in found if r} == {
        ("mismatch", altered), ("missing", removed), ("silent", quiet), ("empty", zero),
        ("truncated", cut), ("corrupt", text), ("missing", gone),
    }
    assert ("orphan", None, "hotline/orphan.wav") in found
    assert ("orphan", None, "2026/01/01/stray.ogg") in found
    missing_calls = [f for f in faults if f.kind == "missing" and f.recording_id is None]
    assert len(missing_calls) == 1 and missing_calls[0].call_id.startswith("t-")
    assert len(faults) == 10
    assert all(f.line() for f in faults)
    async with sessions() as session:
        rows = {r.id: r for r in (await session.scalars(select(Recording))).all()}
    assert rows[good].status == "stored" and rows[good].problem is None
    assert rows[altered].status == "mismatch" and "SHA-256" in rows[altered].problem
    assert rows[quiet].status == "stored" and rows[quiet].problem
    assert rows[cut].status == "truncated" and rows[zero].status == "empty"
    assert (pbx / "cut.wav").exists() and (pbx / "hotline/orphan.wav").exists()  # nothing deleted
    assert unrecorded_call
