"""Several PBXs, each with its own monitor spool (`[[pbx]] monitor_dir`): two Asterisks write
the same file name (their uniqueids repeat), and each recording is read, checked and destroyed
in the spool of its call's PBX — through the recordings part as the service assembles it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from hotline.config import PbxSettings, Settings
from hotline.recordings.reconcile import Reconciler
from hotline.recordings.service import Recordings
from hotline.recordings.spools import Spools
from hotline.recordings.storage import LocalStorage
from journal.models import Recording
from tests.support.audio import add_call, real, recording_row, tone

SAME_NAME = "hotline/20261123/1795444523.2.wav"  # both PBXs' call 1795444523.2


@pytest.fixture
def two_spools(settings: Settings, tmp_path: Path) -> Settings:
    """"main" and "omsk-2", each writing into its own folder; `[recordings] pbx_dir` a third."""
    pbxs = tuple(
        PbxSettings(**settings.ami.model_dump(), name=name, title=title, monitor_dir=tmp_path / name)
        for name, title in (("main", "Барнаул"), ("omsk-2", "Омск, второй узел")))
    return settings.model_copy(update={
        "pbx": pbxs,
        "service": settings.service.model_copy(update={"spool_dir": tmp_path / "spool"}),
        "recordings": settings.recordings.model_copy(update={
            "pbx_dir": tmp_path / "default", "orphan_grace_minutes": 0, "audio_retention_days": 30}),
    })


async def test_each_pbx_recording_is_stored_from_its_own_spool(
    sessions, storage: LocalStorage, two_spools: Settings, tmp_path: Path
) -> None:
    """The same file name on both PBXs: a 3-second tone on "main", the real 6-second
    MixMonitor file on "omsk-2"; each call gets its own audio, both originals go."""
    main_wav = tone(tmp_path / "main" / SAME_NAME, 3.0)
    second_wav = real(tmp_path / "omsk-2" / SAME_NAME)
    _, on_main = await add_call(sessions, SAME_NAME)
    _, on_second = await add_call(sessions, SAME_NAME, pbx="omsk-2")

    recordings = Recordings(two_spools, sessions, storage=storage)
    assert await recordings.worker.sweep() == 2

    main_row, second_row = await recording_row(sessions, on_main), await recording_row(sessions, on_second)
    assert (main_row.status, second_row.status) == ("stored", "stored")
    assert main_row.duration_seconds == pytest.approx(3.0, abs=0.05)
    assert second_row.duration_seconds == pytest.approx(5.98, abs=0.01)
    assert main_row.sha256 != second_row.sha256
    assert not main_wav.exists() and not second_wav.exists()


async def test_reconciliation_looks_in_each_pbx_spool_and_names_the_pbx(
    sessions, storage: LocalStorage, two_spools: Settings, tmp_path: Path
) -> None:
    """A file is the journal's only if a recording of that PBX names it: the second PBX's
    waiting file is fine, the same name in the first PBX's spool is an orphan there, a file
    nobody named in the second spool is the second PBX's orphan, and a recording whose file
    is only in the other PBX's spool is missing."""
    tone(tmp_path / "omsk-2" / SAME_NAME)
    tone(tmp_path / "main" / SAME_NAME)
    tone(tmp_path / "omsk-2" / "hotline/20261123/stray.wav")
    tone(tmp_path / "main" / "hotline/20261123/only-on-main.wav")
    tone(tmp_path / "default" / "left-over.wav")
    _, waiting = await add_call(sessions, SAME_NAME, pbx="omsk-2")
    _, elsewhere = await add_call(sessions, "hotline/20261123/only-on-main.wav", pbx="omsk-2")

    faults = await Recordings(two_spools, sessions, storage=storage).check()

    found = {(f.kind, f.recording_id, f.path, f.pbx) for f in faults}
    assert found == {
        ("missing", elsewhere, "hotline/20261123/only-on-main.wav", "omsk-2"),
        ("orphan", None, SAME_NAME, "main"),
        ("orphan", None, "hotline/20261123/only-on-main.wav", "main"),
        ("orphan", None, "hotline/20261123/stray.wav", "omsk-2"),
        ("orphan", None, "left-over.wav", None),  # `pbx_dir`, where no PBX writes now
    }
    assert waiting not in {f.recording_id for f in faults}
    stray = next(f for f in faults if f.path == "hotline/20261123/stray.wav")
    assert "АТС omsk-2" in stray.line()


async def test_a_spool_inside_another_is_scanned_once(sessions, storage, settings, tmp_path) -> None:
    """The second PBX's spool under the first's (`pbx_dir/omsk-2`): its files are its own
    orphans, not the first PBX's too."""
    spools = Spools(tmp_path / "pbx", {"main": tmp_path / "pbx", "omsk-2": tmp_path / "pbx" / "omsk-2"})
    tone(tmp_path / "pbx" / "omsk-2" / "hotline/x.wav")
    tone(tmp_path / "pbx" / "hotline/y.wav")
    rec = settings.recordings.model_copy(update={"pbx_dir": tmp_path / "pbx", "orphan_grace_minutes": 0})

    faults = await Reconciler(sessions, storage, rec, spools=spools).run()

    assert sorted((f.path, f.pbx) for f in faults) == [("hotline/x.wav", "omsk-2"), ("hotline/y.wav", "main")]


async def test_retention_removes_the_source_from_its_pbx_spool(
    sessions, storage: LocalStorage, two_spools: Settings, tmp_path: Path
) -> None:
    """An expired recording never processed: its file goes from its PBX's spool; the same
    name in the other PBX's spool (a recording not yet expired) stays."""
    now = datetime.now(UTC)
    kept = tone(tmp_path / "main" / SAME_NAME)
    expired = tone(tmp_path / "omsk-2" / SAME_NAME)
    _, young = await add_call(sessions, SAME_NAME, created_at=now - timedelta(days=1))
    _, old = await add_call(sessions, SAME_NAME, pbx="omsk-2", created_at=now - timedelta(days=40))

    destroyed = await Recordings(two_spools, sessions, storage=storage).expire()

    assert [(d.recording_id, d.keys) for d in destroyed] == [(old, (f"pbx:{SAME_NAME}",))]
    assert not expired.exists() and kept.exists()
    async with sessions() as session:
        statuses = dict((await session.execute(select(Recording.id, Recording.status))).all())
    assert statuses == {young: "pending", old: "destroyed"}


def test_the_spools_of_the_settings(settings: Settings, tmp_path: Path) -> None:
    """One PBX: everything in `[recordings] pbx_dir`. Several: a PBX without `monitor_dir`
    uses `pbx_dir`; calls of no (or no longer configured) PBX too; calls journaled as "main"
    are the first PBX's whatever its name now."""
    one = Spools.of(settings)
    assert one.dir_of("main") == one.dir_of(None) == settings.recordings.pbx_dir and not one.several
    pbxs = (PbxSettings(name="barnaul", title="Барнаул", monitor_dir=tmp_path / "b"),
            PbxSettings(name="omsk-2", title="Омск"))
    spools = Spools.of(settings.model_copy(update={"pbx": pbxs}))
    assert spools.several
    assert spools.dir_of("barnaul") == spools.dir_of("main") == tmp_path / "b"
    assert spools.dir_of("omsk-2") == spools.dir_of("tomsk") == spools.dir_of(None) == settings.recordings.pbx_dir
