"""Sound files for the recordings' tests: tones, silence, broken and real WAVs, and calls that name them."""

from __future__ import annotations

import shutil
import warnings
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hotline.pbx.callkeys import call_key
from journal.db import unit_of_work
from journal.models import Call, Recording

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from pydub import AudioSegment
    from pydub.generators import Sine


# <repo>/tests/support/audio.py -> <repo>/../shared/ami-transcripts
REAL_WAV = Path(__file__).resolve().parents[3] / "shared" / "ami-transcripts" / "operator_answered.wav"


def tone(path: Path, seconds: float = 2.0) -> Path:
    """8 kHz 16-bit mono, a 425 Hz tone: what a line's audio looks like to the analysis."""
    segment = Sine(425, sample_rate=8000).to_audio_segment(duration=seconds * 1000, volume=-20.0)
    return _export(segment.set_channels(1).set_sample_width(2), path)


def silence(path: Path, seconds: float = 2.0) -> Path:
    return _export(AudioSegment.silent(duration=seconds * 1000, frame_rate=8000).set_sample_width(2), path)


def truncated(path: Path) -> Path:
    """A MixMonitor file cut short: the header promises more audio than the file holds."""
    tone(path, 2.0)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def zero_bytes(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    return path


def not_a_wav(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("это не звук, а текст\n", encoding="utf-8")
    return path


def real(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(REAL_WAV, path)
    return path


def _export(segment: AudioSegment, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        segment.export(f, format="wav")
    return path


_counter = iter(range(1, 1_000_000))


async def add_call(
    sessions: async_sessionmaker[AsyncSession],
    pbx_file: str | None,
    *,
    kind: str = "call",
    outcome: str = "answered",
    created_at: datetime | None = None,
    pbx: str = "main",
) -> tuple[int, int | None]:
    """An ended call (answered unless told) on the PBX `pbx` (its key "<pbx>:t-N" but on
    "main") and, when `pbx_file` is given, its recording row."""
    at = created_at or datetime.now(UTC)
    async with unit_of_work(sessions) as session:
        call = Call(
            pbx_call_id=call_key(pbx, f"t-{next(_counter)}"), pbx=pbx,
            direction="out" if kind == "callback" else "in", started_at=at, answered_at=at if outcome in ("answered", "callback") else None,
            ended_at=at, outcome=outcome,
        )
        session.add(call)
        await session.flush()
        recording_id = None
        if pbx_file is not None:
            row = Recording(call_id=call.id, kind=kind, pbx_file=pbx_file, status="pending",
                            created_at=at)
            session.add(row)
            await session.flush()
            recording_id = row.id
        return call.id, recording_id



async def recording_row(sessions: async_sessionmaker[AsyncSession], recording_id: int | None) -> Recording:
    """The recording as the journal holds it now."""
    async with sessions() as session:
        row = await session.get(Recording, recording_id)
        assert row is not None
        return row
