"""The recordings' disk fills up while calls go on: the service says so and catches up later.

The stored copies go to a real, tiny tmpfs filled to the last byte (the tests run as root in
CI); where mounting is not allowed, the storage's writes fail with ENOSPC instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from hotline.app import create_app
from hotline.config import Settings
from hotline.sim.simulator import PbxSimulator
from hotline.recordings.storage import LocalStorage
from hotline.web.keys import SESSIONS

from journal.models import Call, Card, Recording
from tests.support.service import INSURER_LINE, SCRAPER, running, service_settings, settle
from tests.support.api import Api

NO_SPACE = "нет места на диске"


class FullDisk:
    """A folder on a disk with no space left, until `make_room()`."""

    def __init__(self, path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.path = path
        path.mkdir(parents=True)
        self.mounted = _mount_tmpfs(path)
        self._filler = path / "filler"
        self.full = True
        if self.mounted:
            try:
                _fill(self._filler)
            except BaseException:
                self.unmount()
                raise
        else:
            real_put = LocalStorage.put

            def put(storage: LocalStorage, source: Path, key: str) -> int:
                if self.full and storage.root == path:
                    raise OSError(errno.ENOSPC, "No space left on device")
                return real_put(storage, source, key)

            monkeypatch.setattr(LocalStorage, "put", put)

    def make_room(self) -> None:
        self.full = False
        self._filler.unlink(missing_ok=True)

    def unmount(self) -> None:
        if self.mounted:
            result = subprocess.run(["umount", str(self.path)], capture_output=True, timeout=30)
            if result.returncode != 0:
                subprocess.run(["umount", "-l", str(self.path)], capture_output=True, timeout=30)


def _mount_tmpfs(path: Path) -> bool:
    try:
        result = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=256k,mode=0700", "tmpfs", str(path)],
            capture_output=True, timeout=30,
        )
    except OSError:
        return False
    return result.returncode == 0


def _fill(filler: Path) -> None:
    """Write until the disk refuses: not one more block fits."""
    with contextlib.suppress(OSError), filler.open("wb", buffering=0) as f:
        while True:
            f.write(b"\0" * 4096)
    assert os.statvfs(filler.parent).f_bavail == 0


@pytest.fixture
def full_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FullDisk]:
    disk = FullDisk(tmp_path / "recordings", monkeypatch)
    try:
        yield disk
    finally:
        disk.unmount()


@pytest.fixture
async def sim(settings: Settings, tmp_path: Path) -> AsyncIterator[PbxSimulator]:
    async with PbxSimulator(settings, time_scale=0.01, auth_failure_delay=0, seed=23,
                            recordings_dir=tmp_path / "pbx", recording_max_seconds=3.0) as simulator:
        yield simulator


@pytest.fixture
async def client(settings, sim, full_disk, pg_only_engine, pg_url, tmp_path) -> AsyncIterator[TestClient]:
    base = service_settings(settings, sim, pg_url, tmp_path)
    app = create_app(base.model_copy(update={
        "service": base.service.model_copy(update={"recordings_dir": full_disk.path}),
        "recordings": base.recordings.model_copy(update={
            "pbx_dir": tmp_path / "pbx", "retry_seconds": 0.2}),
    }))
    async with running(app) as client:
        yield client


async def recording_once(app, predicate, timeout: float = 30.0) -> Recording:
    """The call recording, once `predicate(recording)` holds."""
    async with asyncio.timeout(timeout):
        while True:
            async with app[SESSIONS]() as session:
                row = await session.scalar(select(Recording).where(Recording.kind == "call"))
            if row is not None and predicate(row):
                return row
            await asyncio.sleep(0.05)


async def test_a_full_recordings_disk_is_shown_and_the_recording_is_stored_when_there_is_room(
    client: TestClient, sim: PbxSimulator, full_disk: FullDisk, tmp_path: Path
) -> None:
    """The call is answered and recorded, but the stored copy does not fit: the recording
    says why in Russian (journal and API), /healthz shows the storage error, the call and its
    card are whole, the PBX's original is kept. Once there is room, the worker retries by
    itself and the recording is stored and verified; the health is clear again."""
    app = client.server.app
    sim.place_call(INSURER_LINE, "79140000011", "Белова Нина Петровна", "answered")
    await settle(sim, app)
    failed = await recording_once(app, lambda r: r.status != "pending")
    assert failed.status == "failed" and NO_SPACE in failed.problem, failed.problem
    assert failed.stored_path is None
    assert (tmp_path / "pbx" / failed.pbx_file).is_file(), "the PBX's original is kept"
    async with app[SESSIONS]() as session:
        call = await session.get(Call, failed.call_id)
        card = await session.get(Card, call.card_id)
    assert call.outcome == "answered" and call.ended_at is not None
    assert card is not None and card.number.startswith("SOGAZ-")

    api = Api(client)
    await api.add_user("sogaz-op", "sogaz")
    await api.login("sogaz-op")
    shown = (await api.call("GET", f"/api/v1/calls/{call.id}"))["recordings"]
    assert [(r["id"], r["status"], r["status_title"]) for r in shown] == [
        (failed.id, "failed", "не сохранена, повтор позже")]
    assert NO_SPACE in shown[0]["problem"]
    health = await (await client.get("/healthz", headers=SCRAPER)).json()
    assert health["status"] == "degraded" and health["recordings"]["state"] == "error"
    assert NO_SPACE in health["recordings"]["storage_error"]

    full_disk.make_room()
    stored = await recording_once(app, lambda r: r.status == "stored")
    assert stored.id == failed.id and stored.problem is None and stored.card_id == card.id
    assert (full_disk.path / stored.stored_path).is_file()
    assert not (tmp_path / "pbx" / failed.pbx_file).exists()
    shown = (await api.call("GET", f"/api/v1/calls/{call.id}"))["recordings"]
    assert [(r["status_title"], r["problem"]) for r in shown] == [("сохранена", None)]
    health = await (await client.get("/healthz", headers=SCRAPER)).json()
    assert health["status"] == "ok" and health["recordings"]["storage_error"] is None
