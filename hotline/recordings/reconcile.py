"""Integrity reconciliation (сверка записей): calls that must have audio against the files.

Calls that must have audio are answered calls, secretary messages and callbacks; a call that
never reached an operator has no conversation to record (its header-only WAV is removed by the
worker, status `no_conversation`, not a fault). Each fault is
returned for the administrator and flagged on its recording (status and problem); nothing is
deleted or repaired here. Faults:

- `missing`: no recording known for such a call, or its file is in neither spool nor storage;
- `empty`: zero bytes, or no audio in the file;
- `silent`: stored, but (almost) nothing but silence;
- `truncated`: the WAV holds less audio than its header says (the PBX stopped mid-write);
- `corrupt`: not a WAV at all;
- `failed`: processing keeps failing (the problem says why: no ffmpeg, full disk...);
- `mismatch`: the stored file's SHA-256 is not the one taken when it was stored;
- `orphan`: a file in the PBX spool or in the storage that no recording names.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path

import structlog
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hotline.config import RecordingsSettings
from hotline.recordings import audio
from hotline.recordings.audio import AudioProblem
from hotline.recordings.spools import Spools
from hotline.recordings.storage import RecordingStorage
from hotline.recordings.worker import NOT_STORED_FINAL
from journal.db import unit_of_work
from journal.models import Call, Card, Recording
from journal.clock import utc_now

log = structlog.get_logger(__name__)

FAULT_TITLES = {
    "missing": "нет записи",
    "empty": "пустая запись",
    "silent": "тишина",
    "truncated": "запись оборвана",
    "corrupt": "повреждённый файл",
    "failed": "не обработана",
    "mismatch": "контрольная сумма не совпадает",
    "orphan": "файл без звонка",
}


@dataclass(frozen=True, slots=True)
class Fault:
    """One thing wrong, with enough to find it: the call, its card, the file."""

    kind: str
    message: str
    recording_id: int | None = None
    call_id: str | None = None  # the PBX's call key
    card: str | None = None  # the card's number
    path: str | None = None  # in the storage, or in the PBX's spool
    pbx: str | None = None  # with several PBXs: the call's PBX, or whose spool holds the file

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    def line(self) -> str:
        """One Russian line for the administrator."""
        where = ", ".join(
            part for part in (
                f"запись {self.recording_id}" if self.recording_id else "",
                f"звонок {self.call_id}" if self.call_id else "",
                f"РКК {self.card}" if self.card else "",
                f"АТС {self.pbx}" if self.pbx else "",
                f"файл {self.path}" if self.path else "",
            ) if part
        )
        return f"{FAULT_TITLES.get(self.kind, self.kind)}: {where}: {self.message}"


@dataclass(frozen=True, slots=True)
class _Row:
    id: int
    pbx_file: str
    stored_path: str | None
    sha256: str | None
    status: str
    silence_ratio: float | None
    duration: float | None
    call_id: str | None
    card: str | None
    pbx: str | None  # the call's PBX: its spool holds the file


class Reconciler:
    """Runs the check; `flag=False` only lists (nothing written)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        storage: RecordingStorage,
        settings: RecordingsSettings,
        *,
        spools: Spools | None = None,
    ) -> None:
        self.sessions = sessions
        self.storage = storage
        self.settings = settings
        # Each PBX's spool; one PBX: `[recordings] pbx_dir`.
        self.spools = spools if spools is not None else Spools(settings.pbx_dir)

    async def run(self, *, now: datetime | None = None, flag: bool = True) -> list[Fault]:
        now = now or utc_now()
        rows, unrecorded = await self._load()
        faults = [
            Fault("missing", "звонок должен быть записан, но записи нет", call_id=pbx_id, card=card,
                  pbx=self._named(pbx))
            for pbx_id, card, pbx in unrecorded
        ]
        file_faults = await asyncio.to_thread(self._check_files, rows, now)
        faults.extend(file_faults)
        if flag:
            await self._flag(file_faults)
        for fault in faults:
            log.warning("recording fault", kind=fault.kind, recording_id=fault.recording_id,
                        call_id=fault.call_id, path=fault.path, problem=fault.message)
        return faults

    def _named(self, pbx: str | None) -> str | None:
        """A fault names its PBX only when there are several."""
        return pbx if self.spools.several else None

    async def _load(self) -> tuple[list[_Row], list[tuple[str, str | None, str]]]:
        async with self.sessions() as session:
            result = await session.execute(
                select(Recording.id, Recording.pbx_file, Recording.stored_path, Recording.sha256,
                       Recording.status, Recording.silence_ratio, Recording.duration_seconds,
                       Call.pbx_call_id, Card.number, Call.pbx)
                .outerjoin(Call, Call.id == Recording.call_id)
                .outerjoin(Card, Card.id == Recording.card_id)
                .where(Recording.status.not_in(NOT_STORED_FINAL), or_(Call.id.is_(None), Call.ended_at.is_not(None)))
                .order_by(Recording.id)
            )
            rows = [_Row(*tuple(r)) for r in result.all()]  # ten columns: past the typed ones
            # Answered calls and callbacks need a conversation recording; secretary calls a message.
            must = await session.execute(
                select(Call.id, Call.pbx_call_id, Card.number, Call.outcome, Call.pbx)
                .outerjoin(Card, Card.id == Call.card_id)
                .where(Call.ended_at.is_not(None),
                       or_(Call.answered_at.is_not(None), Call.outcome.in_(("secretary", "callback"))))
            )
            kinds: dict[int | None, set[str]] = {}
            for call_id, kind in (await session.execute(select(Recording.call_id, Recording.kind))).all():
                kinds.setdefault(call_id, set()).add(kind)
        unrecorded: list[tuple[str, str | None, str]] = []
        for call_id, pbx_id, card, outcome, pbx in must.all():
            have = kinds.get(call_id, set())
            needed = {"message"} if outcome == "secretary" else {"call", "callback"}
            if not have & needed:
                unrecorded.append((pbx_id, card, pbx))
        return rows, unrecorded

    # ------------------------------------------------------------ files (in a thread)

    def _check_files(self, rows: Sequence[_Row], now: datetime) -> list[Fault]:
        faults: list[Fault] = []
        spool_named: set[str] = set()
        stored_named: set[str] = set()
        for row in rows:
            fault = self._check_stored(row) if row.stored_path else self._check_source(row, spool_named)
            if row.stored_path:
                stored_named.update({row.stored_path, str(Path(row.stored_path).with_suffix(".wav"))})
            if fault is not None:
                faults.append(fault)
        faults.extend(self._orphans(spool_named, stored_named, now))
        return faults

    def _fault(self, row: _Row, kind: str, message: str, path: str | None) -> Fault:
        return Fault(kind, message, recording_id=row.id, call_id=row.call_id, card=row.card, path=path,
                     pbx=self._named(row.pbx))

    def _check_stored(self, row: _Row) -> Fault | None:
        key = row.stored_path or ""
        size = self.storage.size(key)
        if size is None:
            return self._fault(row, "missing", "сохранённый файл не найден в хранилище", key)
        if size == 0 or not row.duration:
            return self._fault(row, "empty", "сохранённый файл пустой", key)
        if self.storage.sha256(key) != row.sha256:
            return self._fault(row, "mismatch", "файл изменён после сохранения (SHA-256 не совпадает)", key)
        if row.silence_ratio is not None and row.silence_ratio >= self.settings.silent_ratio:
            return self._fault(row, "silent", f"{row.silence_ratio:.0%} записи — тишина", key)
        return None

    def _check_source(self, row: _Row, spool_named: set[str]) -> Fault | None:
        try:
            source = self.spools.source(row.pbx, row.pbx_file)
            spool_named.add(str(source.resolve()))
            audio.check_wav(source)
        except AudioProblem as exc:
            return self._fault(row, exc.kind, exc.message, row.pbx_file)
        except OSError as exc:
            return self._fault(row, "failed", f"файл не читается: {exc.strerror or exc}", row.pbx_file)
        if row.status == "failed":
            return self._fault(row, "failed", "обработка не удаётся, повтор позже", row.pbx_file)
        return None  # a good file still waiting for the worker

    def _orphans(self, spool_named: set[str], stored_named: set[str], now: datetime) -> list[Fault]:
        faults = []
        grace = timedelta(minutes=self.settings.orphan_grace_minutes).total_seconds()
        folders = self.spools.folders()
        for spool, writers in folders.items():
            if not spool.is_dir():
                continue
            # One folder inside another (a PBX's spool under the default): each file is
            # the innermost folder's.
            inner = [other for other in folders if other != spool and other.is_relative_to(spool)]
            pbx = self._named(writers[0]) if len(writers) == 1 else None
            for path in sorted(spool.rglob("*.wav")):
                resolved = path.resolve()
                if str(resolved) in spool_named or any(resolved.is_relative_to(i) for i in inner):
                    continue
                if time.time() - path.stat().st_mtime >= grace:
                    faults.append(Fault("orphan", "файл АТС без звонка в журнале",
                                        path=path.relative_to(spool).as_posix(), pbx=pbx))
        for key in self.storage.keys():
            if key not in stored_named:
                faults.append(Fault("orphan", "файл в хранилище без записи в журнале", path=key))
        return faults

    async def _flag(self, faults: Sequence[Fault]) -> None:
        """Write each fault on its recording; a stored one keeps its status "stored" when silent."""
        async with unit_of_work(self.sessions) as session:
            for fault in faults:
                if fault.recording_id is None:
                    continue
                row = await session.get(Recording, fault.recording_id)
                if row is None:
                    continue
                if fault.kind != "silent":
                    row.status = fault.kind
                row.problem = fault.message
