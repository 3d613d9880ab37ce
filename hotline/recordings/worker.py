"""The recording worker: each finished call's WAV becomes a stored, compressed recording.

It never runs on the event loop's hot path: a `CallEnded` event only wakes it (through a
PBX feed's call subscriber), the audio work runs in threads, and each recording is one short database
transaction before and after. A file that cannot be processed (missing, corrupt, no ffmpeg,
full disk) leaves a clear status and problem on the recording, the PBX's original untouched,
and is retried with backoff; nothing is deleted but the spool original of a stored recording.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import heapq
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hotline.config import RecordingsSettings
from hotline.pbx.events import CallEnded, DomainEvent
from hotline.recordings import audio
from hotline.recordings.audio import AudioProblem, Prepared
from hotline.recordings.spools import Spools
from hotline.recordings.storage import ObjectExists, RecordingStorage
from journal.db import read_sessions
from journal.models import Call, Recording
from journal.clock import utc_now

log = structlog.get_logger(__name__)

NOT_STORED_FINAL = ("destroyed", "no_conversation")
SWEEP_AFTER_FAILURE = 5.0  # seconds
NO_CONVERSATION = "no_conversation"
NO_CONVERSATION_NOTE = "разговора с оператором не было: АТС пишет только разговор, файл без звука удалён"


@dataclass(frozen=True, slots=True)
class Stored:
    key: str
    wav_key: str | None
    prepared: Prepared


@dataclass(frozen=True, slots=True)
class _Job:
    """What processing a recording needs to know of it and its call, read in one statement."""

    id: int
    pbx_file: str
    created_at: datetime
    kind: str
    has_call: bool
    answered_at: datetime | None
    pbx: str | None  # the call's PBX (its spool holds the file); None with no call


# The recordings still to store, with their calls; callers add their own conditions.
_JOBS = (
    select(Recording.id, Recording.pbx_file, Recording.created_at, Recording.kind,
           Call.id.is_not(None), Call.answered_at, Call.pbx)
    .outerjoin(Call, Call.id == Recording.call_id)
    .where(Recording.stored_path.is_(None), Recording.status.not_in(NOT_STORED_FINAL))
)


def storage_stem(recording: Recording | _Job, zone: ZoneInfo) -> str:
    """"YYYY/MM/DD/<id>-<the PBX's name>": the day of the call in the region, the call's name."""
    day = recording.created_at.astimezone(zone)
    return f"{day:%Y/%m/%d}/{recording.id:08d}-{PurePosixPath(recording.pbx_file).stem}"


def _never_talked(job: _Job) -> bool:
    """A conversation recording of a call nobody answered: no audio is expected in it."""
    return job.kind in ("call", "callback") and job.has_call and job.answered_at is None


class StorageProblem(AudioProblem):
    """The storage refused the copy (full disk, no permission): the service's trouble, not the
    file's, so it is also shown in the service's health until a recording is stored again."""


def _storage_problem(exc: OSError) -> StorageProblem:
    reason = "нет места на диске" if exc.errno == errno.ENOSPC else (exc.strerror or str(exc))
    return StorageProblem("failed", f"хранилище записей: {reason}; исходный файл сохранён")


class RecordingWorker:
    """Processes recordings of ended calls; owned by the app (start, stop)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        storage: RecordingStorage,
        settings: RecordingsSettings,
        *,
        timezone: str,
        work_dir: Path,
        sweep_interval: float = 60.0,
        retry_base: float = 30.0,
        retry_max: float = 3600.0,
        before_sweep: Callable[[], Awaitable[None]] | None = None,
        spools: Spools | None = None,
    ) -> None:
        self.sessions = sessions
        # The sweep's and a recording's first look are one statement each (`read_sessions`).
        self.reads = read_sessions(sessions)
        self.storage = storage
        self.settings = settings
        # Each PBX's spool; one PBX: `[recordings] pbx_dir`.
        self.spools = spools if spools is not None else Spools(settings.pbx_dir)
        self.zone = ZoneInfo(timezone)
        self.work_dir = work_dir
        self.sweep_interval = sweep_interval
        self.retry_base = retry_base
        self.retry_max = retry_max
        self._before_sweep = before_sweep
        self._wake = asyncio.Event()
        self._limit = asyncio.Semaphore(settings.workers)
        # recording id -> (failed attempts, monotonic time of the next attempt)
        self._retries: dict[int, tuple[int, float]] = {}
        # (time, recording id) of the retries, soonest first; an entry whose recording was
        # stored or rescheduled meanwhile is stale and skipped.
        self._retry_times: list[tuple[float, int]] = []
        # The PBX calls ended since the last look: only their recordings are looked at (a
        # sweep lists every recording still waiting, and calls end several times a second).
        self._ended: set[str] = set()
        self._sweep_at = 0.0  # monotonic time of the next sweep of everything waiting
        self._task: asyncio.Task[None] | None = None
        self.processed = 0
        self.busy = False  # a look or a sweep is running (its recordings in hand)
        # The storage's last refusal (Russian, as on the recording); None once one is stored.
        self.storage_error: str | None = None

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="recording-worker")
        self.wake()  # the start-up sweep: whatever waited while the service was down

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    def on_events(self, events: Sequence[DomainEvent]) -> None:
        """A call subscriber of the PBX feed: a call ended, its recordings can be processed."""
        self.calls_ended([event.call_id for event in events if isinstance(event, CallEnded)])

    def calls_ended(self, call_ids: Sequence[str]) -> None:
        """These PBX calls ended (heard here or from the link's holder): look at their
        recordings."""
        if call_ids:
            self._ended.update(call_ids)
            self._wake.set()

    def wake(self) -> None:
        """Sweep every recording still waiting, at once."""
        self._sweep_at = 0.0
        self._wake.set()

    def health(self) -> dict[str, object]:
        """"error" while the storage refuses recordings (they wait in the PBX's spool)."""
        return {
            "state": "error" if self.storage_error else "ok",
            "processed": self.processed,
            "retrying": len(self._retries),
            "storage_error": self.storage_error,
        }

    async def run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._next_wait())
            self._wake.clear()
            self.busy = True
            try:
                if self._before_sweep is not None:
                    with contextlib.suppress(TimeoutError):
                        await self._before_sweep()
                now = time.monotonic()
                if now >= self._sweep_at:
                    self._sweep_at = now + self.sweep_interval
                    self._ended.clear()
                    await self.sweep()
                else:
                    ended, self._ended = self._ended, set()
                    await self._look_at(ended, self._due_retries(now))
            except Exception as exc:  # the database may be away: the next sweep tries again
                log.warning("recording sweep failed", error=repr(exc)[:300])
                # What this look was about (the calls that ended) is found by a sweep soon.
                self._sweep_at = min(self._sweep_at, time.monotonic() + SWEEP_AFTER_FAILURE)
            finally:
                self.busy = False

    def _next_wait(self) -> float:
        now = time.monotonic()
        soonest = self._sweep_at
        if self._soonest_retry() is not None:
            soonest = min(soonest, self._retry_times[0][0])
        return max(0.05, min(self.sweep_interval, soonest - now))

    def _soonest_retry(self) -> int | None:
        """The recording of the soonest retry (stale entries dropped on the way)."""
        times = self._retry_times
        while times and self._retries.get(times[0][1], (0, None))[1] != times[0][0]:
            heapq.heappop(times)
        return times[0][1] if times else None

    def _due_retries(self, now: float) -> list[int]:
        due = []
        while (recording_id := self._soonest_retry()) is not None and self._retry_times[0][0] <= now:
            heapq.heappop(self._retry_times)
            due.append(recording_id)
        return due

    # ------------------------------------------------------------ work

    async def sweep(self, *, force: bool = False) -> int:
        """Process every due recording of an ended call that is not stored yet."""
        async with self.reads() as session:
            jobs = [_Job(*row) for row in await session.execute(
                _JOBS.where(Call.ended_at.is_not(None)).order_by(Recording.id)
            )]
        now = time.monotonic()
        due = [job for job in jobs if force or self._retries.get(job.id, (0, 0.0))[1] <= now]
        await asyncio.gather(*(self._limited(job) for job in due))
        return len(due)

    async def _look_at(self, calls: set[str], recording_ids: list[int]) -> int:
        """Process the due recordings of these ended calls, and these recordings."""
        if not calls and not recording_ids:
            return 0
        async with self.reads() as session:
            jobs = [_Job(*row) for row in await session.execute(
                _JOBS.where(Call.ended_at.is_not(None),
                            or_(Call.pbx_call_id.in_(calls), Recording.id.in_(recording_ids)))
                .order_by(Recording.id)
            )]
        now = time.monotonic()
        due = [job for job in jobs if self._retries.get(job.id, (0, 0.0))[1] <= now]
        await asyncio.gather(*(self._limited(job) for job in due))
        return len(due)

    async def _limited(self, job: _Job) -> None:
        async with self._limit:
            try:
                await self._process(job)
            except Exception:
                log.exception("recording not processed", recording_id=job.id)
                self._schedule_retry(job.id)

    async def process(self, recording_id: int) -> str:
        """One recording: analyse, compress, store, verify, link. Returns its new status."""
        async with self.reads() as session:
            row = (await session.execute(
                _JOBS.where(Recording.id == recording_id, Recording.stored_path.is_(None))
            )).first()
            if row is None:
                status = await session.scalar(
                    select(Recording.status).where(Recording.id == recording_id))
                return status or "gone"
        return await self._process(_Job(*row))

    async def _process(self, job: _Job) -> str:
        bound = log.bind(recording_id=job.id, pbx=job.pbx, pbx_file=job.pbx_file)
        stored: Stored | None = None
        try:
            source = self.spools.source(job.pbx, job.pbx_file)
            stored = await asyncio.to_thread(self._store, source, storage_stem(job, self.zone))
            status, problem = "stored", self._note(stored.prepared)
        except AudioProblem as exc:
            status, problem = exc.kind, exc.message
            if isinstance(exc, StorageProblem):
                self.storage_error = exc.message
        if status == "empty" and _never_talked(job):
            status, problem = NO_CONVERSATION, NO_CONVERSATION_NOTE
        if not await self._record(job.id, status, problem, stored):
            return "gone"
        if status == NO_CONVERSATION:
            # MixMonitor(b) records only while bridged, so a call that never reached anyone
            # leaves a header-only WAV: nothing to keep, nothing to flag.
            self._retries.pop(job.id, None)
            await asyncio.to_thread(self._remove_source, source)
            bound.info("no conversation to store")
            return status
        if stored is None:
            self._schedule_retry(job.id)
            bound.warning("recording not stored", status=status, problem=problem)
            return status
        self._retries.pop(job.id, None)
        self.processed += 1
        self.storage_error = None
        await asyncio.to_thread(self._remove_source, source)
        bound.info("recording stored", key=stored.key, seconds=stored.prepared.facts.duration_seconds)
        return status

    async def _record(
        self, recording_id: int, status: str, problem: str | None, stored: Stored | None
    ) -> bool:
        """The outcome on the recording, linked to its call's card if it is not yet: one
        UPDATE. False if the recording is gone."""
        values: dict[str, object] = {
            "status": status, "problem": problem, "processed_at": utc_now(),
            "card_id": func.coalesce(Recording.card_id, select(Call.card_id)
                                     .where(Call.id == Recording.call_id).scalar_subquery()),
        }
        if stored is not None:
            facts = stored.prepared.facts
            values |= {
                "stored_path": stored.key, "format": self.settings.format,
                "duration_seconds": round(facts.duration_seconds, 3),
                "silence_ratio": round(facts.silence_ratio, 4),
                "size_bytes": stored.prepared.size_bytes, "sha256": stored.prepared.sha256,
            }
        # One statement, atomic on its own: on PostgreSQL without BEGIN and COMMIT around it
        # (a round trip each, for every recording and every retry of one).
        async with self.reads() as session:
            result = await session.execute(
                update(Recording).where(Recording.id == recording_id).values(values)
                .execution_options(synchronize_session=False)
            )
            await session.commit()  # SQLite keeps its transactions
        return bool(getattr(result, "rowcount", 1))

    def _note(self, prepared: Prepared) -> str | None:
        if prepared.facts.silence_ratio >= self.settings.silent_ratio:
            return f"тишина: {prepared.facts.silence_ratio:.0%} записи без звука"
        return None

    def _store(self, source: Path, stem: str) -> Stored:
        """Blocking part, in a thread: prepare, put, read back and compare."""
        fmt = self.settings.format
        # The work copy is named by the recording (its id), not by the PBX's file name.
        prepared = audio.prepare(source, self.work_dir, fmt, self.settings.ffmpeg,
                                 name=PurePosixPath(stem).name)
        key, wav_key = f"{stem}.{fmt}", None
        try:
            self._put_once(prepared.compressed, key, prepared.sha256)
            if self.settings.keep_wav:
                wav_key = f"{stem}.wav"
                self._put_once(source, wav_key, audio.sha256_of(source))
            if self.storage.sha256(key) != prepared.sha256:
                raise AudioProblem("failed", f"сохранённая копия {key} не совпадает с записанной")
        except OSError as exc:
            raise _storage_problem(exc) from None
        finally:
            prepared.compressed.unlink(missing_ok=True)
        return Stored(key, wav_key, prepared)

    def _put_once(self, source: Path, key: str, sha256: str) -> None:
        try:
            self.storage.put(source, key)
        except ObjectExists:
            # An earlier attempt stored it but its transaction was lost: same bytes, adopt them.
            if self.storage.sha256(key) != sha256:
                raise AudioProblem("failed", f"в хранилище уже есть другой файл {key}") from None

    @staticmethod
    def _remove_source(source: Path) -> None:
        """The PBX's original goes once the stored copy is verified and recorded."""
        try:
            source.unlink(missing_ok=True)
        except OSError as exc:
            log.warning("spool original not removed", file=str(source), error=str(exc))

    def _schedule_retry(self, recording_id: int) -> None:
        attempts, _ = self._retries.get(recording_id, (0, 0.0))
        delay = min(self.retry_max, self.retry_base * 2 ** attempts)
        at = time.monotonic() + delay
        self._retries[recording_id] = (attempts + 1, at)
        heapq.heappush(self._retry_times, (at, recording_id))
