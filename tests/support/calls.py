"""A call with its stored recording in the journal."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from hotline.recordings.storage import LocalStorage
from hotline.web.keys import SESSIONS, SETTINGS
from journal.db import unit_of_work
from journal.models import Call, Organization, Recording
from tests.support.api import Api

AUDIO = bytes(range(256)) * 40  # 10240 bytes standing in for an Ogg file


async def add_call_with_recording(api: Api, org: str, line: str, caller: str, tmp: Path) -> tuple[int, int]:
    """A stored call of `org` with one stored, checksummed recording; (call id, recording id)."""
    storage = LocalStorage(api.app[SETTINGS].service.recordings_dir)
    key = f"2026/11/23/{caller}.ogg"
    source = tmp / f"{caller}.ogg"
    source.write_bytes(AUDIO)
    storage.put(source, key)
    now = datetime.now(UTC)
    async with unit_of_work(api.app[SESSIONS]) as session:
        org_id = await session.scalar(select(Organization.id).where(Organization.code == org))
        call = Call(pbx_call_id=f"pbx-{caller}", direction="in", line_number=line,
                    organization_id=org_id, caller_number=caller, started_at=now - timedelta(minutes=5),
                    ended_at=now, outcome="answered")
        session.add(call)
        await session.flush()
        rec = Recording(call_id=call.id, kind="call", pbx_file=f"{caller}.wav", stored_path=key,
                        format="ogg", size_bytes=len(AUDIO), sha256=hashlib.sha256(AUDIO).hexdigest(),
                        status="stored", created_at=now, processed_at=now)
        session.add(rec)
        await session.flush()
        return call.id, rec.id

