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
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hotline.config import RecordingsSettings
from hotline.pbx.events import CallEnded, DomainEvent
from hotline.recordings import audio
from hotline.recordings.audio import AudioProblem, Prepared
from hotline.recordings.storage import ObjectExists, RecordingStorage
from journal.db import read_sessions, unit_of_work
from journal.models import Call, Recording
from journal.clock import utc_now

log = structlog.get_logger(__name__)

NOT_STORED_FINAL = ("destroyed", "no_conversation")
NO_CONVERSATION = "no_conversation"
NO_CONVERSATION_NOTE = "разговора с оператором не было: АТС пишет только разговор, файл без звука удалён"


@dataclass(frozen=True, slots=True)
class Stored:
    key: str
    wav_key: str | None
    prepared: Prepared


def source_path(pbx_dir: Path, pbx_file: str) -> Path:
    """The PBX's file inside its spool; a name that escapes the spool is refused."""
    relative = PurePosixPath(pbx_file.removeprefix("/var/spool/asterisk/monitor/"))
    if not pbx_file or relative.is_absolute() or ".." in relative.parts:
        raise AudioProblem("corrupt", f"недопустимое имя файла записи: {pbx_file!r}")
    return pbx_dir.joinpath(*relative.parts)


def storage_stem(recording: Recording, zone: ZoneInfo) -> str:
    """"YYYY/MM/DD/<id>-<the PBX's name>": the day of the call in the region, the call's name."""
    day = recording.created_at.astimezone(zone)
    return f"{day:%Y/%m/%d}/{recording.id:08d}-{PurePosixPath(recording.pbx_file).stem}"


def _never_talked(recording: Recording, call: Call | None) -> bool:
    """A conversation recording of a call nobody answered: no audio is expected in it."""
    return recording.kind in ("call", "callback") and call is not None and call.answered_at is None


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
    ) -> None:
        self.sessions = sessions
        # The sweep's and a recording's first look are one statement each (`read_sessions`).
        self.reads = read_sessions(sessions)
        self.storage = storage
        self.settings = settings
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
        self._task: asyncio.Task[None] | None = None
        self.processed = 0
        # The storage's last refusal (Russian, as on the recording); None once one is stored.
        self.storage_error: str | None = None

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="recording-worker")
        self._wake.set()  # the start-up sweep: whatever waited while the service was down

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    def on_events(self, events: Sequence[DomainEvent]) -> None:
        """A call subscriber of the PBX feed: a call ended, its recordings can be processed."""
        if any(isinstance(event, CallEnded) for event in events):
            self._wake.set()

    def wake(self) -> None:
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
            try:
                if self._before_sweep is not None:
                    with contextlib.suppress(TimeoutError):
                        await self._before_sweep()
                await self.sweep()
            except Exception as exc:  # the database may be away: the next sweep tries again
                log.warning("recording sweep failed", error=repr(exc)[:300])

    def _next_wait(self) -> float:
        now = time.monotonic()
        due = [at - now for _, at in self._retries.values()]
        return max(0.05, min([self.sweep_interval, *due]))

    # ------------------------------------------------------------ work

    async def sweep(self, *, force: bool = False) -> int:
        """Process every due recording of an ended call that is not stored yet."""
        async with self.reads() as session:
            ids = list(await session.scalars(
                select(Recording.id)
                .join(Call, Call.id == Recording.call_id)
                .where(Recording.stored_path.is_(None),
                       Recording.status.not_in(NOT_STORED_FINAL),
                       Call.ended_at.is_not(None))
                .order_by(Recording.id)
            ))
        now = time.monotonic()
        due = [i for i in ids if force or self._retries.get(i, (0, 0.0))[1] <= now]
        await asyncio.gather(*(self._limited(i) for i in due))
        return len(due)

    async def _limited(self, recording_id: int) -> None:
        async with self._limit:
            try:
                await self.process(recording_id)
            except Exception:
                log.exception("recording not processed", recording_id=recording_id)
                self._schedule_retry(recording_id)

    async def process(self, recording_id: int) -> str:
        """One recording: analyse, compress, store, verify, link. Returns its new status."""
        async with self.reads() as session:
            row = await session.get(Recording, recording_id)
            if row is None or row.stored_path is not None or row.status in NOT_STORED_FINAL:
                return row.status if row is not None else "gone"
            pbx_file, stem = row.pbx_file, storage_stem(row, self.zone)
        bound = log.bind(recording_id=recording_id, pbx_file=pbx_file)
        stored: Stored | None = None
        try:
            source = source_path(self.settings.pbx_dir, pbx_file)
            stored = await asyncio.to_thread(self._store, source, stem)
            status, problem = "stored", self._note(stored.prepared)
        except AudioProblem as exc:
            status, problem = exc.kind, exc.message
            if isinstance(exc, StorageProblem):
                self.storage_error = exc.message
        async with unit_of_work(self.sessions) as session:
            row = await session.get(Recording, recording_id)
            if row is None:
                return "gone"
            call = await session.get(Call, row.call_id) if row.call_id is not None else None
            if status == "empty" and _never_talked(row, call):
                status, problem = NO_CONVERSATION, NO_CONVERSATION_NOTE
            row.status, row.problem = status, problem
            row.processed_at = utc_now()
            if call is not None and row.card_id is None:
                row.card_id = call.card_id
            if stored is not None:
                facts = stored.prepared.facts
                row.stored_path, row.format = stored.key, self.settings.format
                row.duration_seconds = round(facts.duration_seconds, 3)
                row.silence_ratio = round(facts.silence_ratio, 4)
                row.size_bytes, row.sha256 = stored.prepared.size_bytes, stored.prepared.sha256
        if status == NO_CONVERSATION:
            # MixMonitor(b) records only while bridged, so a call that never reached anyone
            # leaves a header-only WAV: nothing to keep, nothing to flag.
            self._retries.pop(recording_id, None)
            await asyncio.to_thread(self._remove_source, source)
            bound.info("no conversation to store")
            return status
        if stored is None:
            self._schedule_retry(recording_id)
            bound.warning("recording not stored", status=status, problem=problem)
            return status
        self._retries.pop(recording_id, None)
        self.processed += 1
        self.storage_error = None
        await asyncio.to_thread(self._remove_source, source)
        bound.info("recording stored", key=stored.key, seconds=stored.prepared.facts.duration_seconds)
        return status

    def _note(self, prepared: Prepared) -> str | None:
        if prepared.facts.silence_ratio >= self.settings.silent_ratio:
            return f"тишина: {prepared.facts.silence_ratio:.0%} записи без звука"
        return None

    def _store(self, source: Path, stem: str) -> Stored:
        """Blocking part, in a thread: prepare, put, read back and compare."""
        fmt = self.settings.format
        prepared = audio.prepare(source, self.work_dir, fmt, self.settings.ffmpeg)
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
        self._retries[recording_id] = (attempts + 1, time.monotonic() + delay)
