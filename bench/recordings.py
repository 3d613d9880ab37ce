"""Recordings benchmark: minutes of call audio processed per CPU-second, end to end.

End to end means what the service does after each hangup: the worker reads the journal row,
checks and measures the WAV with pydub, compresses it with ffmpeg (Opus/Ogg), hashes it,
stores it in recordings/YYYY/MM/DD/, reads it back to verify, and records it all on the call
(SQLite journal). CPU time counts this process and its ffmpeg children.

    python bench/recordings.py [--calls 20] [--minutes 3] [--format ogg]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import shutil
import sys
import tempfile
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hotline.config import RecordingsSettings  # noqa: E402
from hotline.recordings.storage import LocalStorage  # noqa: E402
from hotline.recordings.worker import RecordingWorker  # noqa: E402
from journal.db import make_engine, make_sessionmaker, unit_of_work, upgrade_async  # noqa: E402
from journal.models import Call, Recording  # noqa: E402

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from pydub import AudioSegment

REAL = Path(__file__).resolve().parents[2] / "shared" / "ami-transcripts" / "operator_answered.wav"


def cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def make_call_audio(path: Path, minutes: float) -> None:
    """Real MixMonitor audio (the shared transcript's WAV) looped to the call's length."""
    with REAL.open("rb") as f:
        speech = AudioSegment.from_wav(f)
    whole = speech * (int(minutes * 60 * 1000 / len(speech)) + 1)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        whole[: int(minutes * 60 * 1000)].export(f, format="wav")


async def run(calls: int, minutes: float, fmt: str, workers: int) -> None:
    root = Path(tempfile.mkdtemp(prefix="hotline-bench-"))
    try:
        url = f"sqlite+aiosqlite:///{root / 'journal.sqlite3'}"
        await upgrade_async(url)
        engine = make_engine(url)
        sessions = make_sessionmaker(engine)
        settings = RecordingsSettings(pbx_dir=root / "pbx", format=fmt, workers=workers)
        template = root / "template.wav"
        make_call_audio(template, minutes)
        settings.pbx_dir.mkdir(parents=True)
        now = datetime.now(UTC)
        async with unit_of_work(sessions) as session:
            for i in range(calls):
                shutil.copyfile(template, settings.pbx_dir / f"{i}.wav")
                call = Call(pbx_call_id=f"bench-{i}", direction="in", started_at=now,
                            answered_at=now, ended_at=now, outcome="answered")
                session.add(call)
                await session.flush()
                session.add(Recording(call_id=call.id, kind="call", pbx_file=f"{i}.wav",
                                      status="pending", created_at=now))
        worker = RecordingWorker(sessions, LocalStorage(root / "recordings"), settings,
                                 timezone="Asia/Barnaul", work_dir=root / "work")
        cpu0, wall0 = cpu_seconds(), time.perf_counter()
        await worker.sweep()
        cpu, wall = cpu_seconds() - cpu0, time.perf_counter() - wall0
        stored = worker.processed
        await engine.dispose()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    audio_minutes = stored * minutes
    print(f"{stored}/{calls} calls of {minutes:g} min ({audio_minutes:g} min of 8 kHz audio) -> {fmt}, "
          f"{workers} workers, {os.cpu_count()} CPUs")
    print(f"CPU {cpu:.2f} s, wall {wall:.2f} s")
    print(f"{audio_minutes / cpu:.1f} minutes of audio per CPU-second "
          f"({audio_minutes / wall:.1f} per wall-second)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--format", choices=("ogg", "mp3"), default="ogg")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    asyncio.run(run(args.calls, args.minutes, args.format, args.workers))


if __name__ == "__main__":
    main()
