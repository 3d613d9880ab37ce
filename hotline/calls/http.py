"""`/api/v1/calls` and `/api/v1/recordings/{id}/audio`: calls and their audio over JSON/HTTP.

Visibility comes from `journal.calls` (the same rule as cards). Call lists show citizens'
numbers, so each list and each opened call is written to the audit log; every play or
download of a recording is audited (`audit_playback`) before a byte is sent, and the audio is
served only after its SHA-256 matched (`open_verified`).
"""

from __future__ import annotations

import asyncio
from typing import Any, BinaryIO

from aiohttp import web

from hotline.config import Settings
from hotline.recordings.playback import audit_playback, open_verified
from hotline.recordings.service import local_storage
from hotline.web.common import actor_of, datetime_param, int_param, path_id, row_json
from hotline.web.errors import ApiError
from hotline.web.keys import SESSIONS, SETTINGS
from journal import audit
from journal.audit import AuditAction
from journal.calls import CallView, get_call_for, get_recording_for, list_calls
from journal.db import unit_of_work
from journal.errors import InvalidInput
from journal.labels import title
from journal.models import Recording

MAX_CALLS = 500
CHUNK = 64 * 1024
AUDIO_TYPES = {"ogg": "audio/ogg", "mp3": "audio/mpeg", "wav": "audio/wav"}
RECORDING_FIELDS = ("id", "kind", "format", "duration_seconds", "size_bytes", "status", "problem",
                    "created_at")



def recording_json(rec: Recording) -> dict[str, Any]:
    body = {k: v for k, v in row_json(rec).items() if k in RECORDING_FIELDS}
    body["status_title"] = title("recording_statuses", rec.status)
    body["audio_url"] = f"/api/v1/recordings/{rec.id}/audio"
    return body


def call_json(view: CallView, settings: Settings) -> dict[str, Any]:
    body = row_json(view.call)
    body.update(
        # The PBX (site) that took the call, as people name it.
        pbx_title=settings.pbx_title(view.call.pbx),
        card_number=view.card_number,
        operators=list(view.operators),
        transfers=[row_json(t) for t in view.transfers],
        recordings=[recording_json(r) for r in view.recordings],
    )
    return body


async def list_(request: web.Request) -> web.Response:
    """Calls newest first; filters `since`, `until` (ISO 8601 with zone), `phone`, `card_id`."""
    query = request.query
    since = datetime_param(query.get("since"), "since")
    until = datetime_param(query.get("until"), "until")
    phone = query.get("phone") or None
    limit = int_param(query.get("limit"), "limit", default=100)
    offset = int_param(query.get("offset"), "offset", default=0)
    card_id = int_param(query.get("card_id"), "card_id")
    if not 1 <= limit <= MAX_CALLS or offset < 0:
        raise InvalidInput(f"Размер страницы от 1 до {MAX_CALLS}", field="limit")
    if phone is not None and len(phone) > 32:
        raise InvalidInput("Слишком длинный номер", field="phone")
    actor = actor_of(request)
    async with unit_of_work(request.app[SESSIONS]) as db:
        views = await list_calls(db, actor, since=since, until=until, phone=phone,
                                 limit=limit, offset=offset, card_id=card_id)
        await audit.record(db, actor, AuditAction.LIST, "call", None, {
            "filters": {k: v for k, v in query.items()
                        if k in ("since", "until", "phone", "card_id")},
            "call_ids": [v.call.id for v in views],
        })
        items = [call_json(v, request.app[SETTINGS]) for v in views]
    return web.json_response({"items": items, "limit": limit, "offset": offset})


async def read(request: web.Request) -> web.Response:
    actor = actor_of(request)
    async with unit_of_work(request.app[SESSIONS]) as db:
        view = await get_call_for(db, actor, path_id(request))
        await audit.record(db, actor, AuditAction.VIEW, "call", view.call.id)
        out = call_json(view, request.app[SETTINGS])
    return web.json_response(out)


async def audio(request: web.Request) -> web.StreamResponse:
    """The recording's audio, whole or one byte range (HTTP Range, for seeking in a player).

    `?download=1` asks for a file to save; it is audited as a download, not a play. A HEAD
    (a player asking the size) is not audited: it carries no sound.
    """
    actor, recording_id = actor_of(request), path_id(request)
    download = request.query.get("download") in ("1", "true")
    async with request.app[SESSIONS]() as db:
        recording = await get_recording_for(db, actor, recording_id)
    storage = local_storage(request.app[SETTINGS])
    stream = await asyncio.to_thread(open_verified, storage, recording)
    try:
        size = await asyncio.to_thread(_size, stream)
        start, stop = _byte_range(request, size)
        if request.method != "HEAD":  # HEAD sends no sound: nothing was heard or saved
            async with unit_of_work(request.app[SESSIONS]) as db:
                await audit_playback(db, actor, recording, download=download, seek=start > 0)
        return await _send(request, stream, recording, start, stop, size, download=download)
    finally:
        stream.close()


def _size(stream: BinaryIO) -> int:
    size = stream.seek(0, 2)
    stream.seek(0)
    return size


def _byte_range(request: web.Request, size: int) -> tuple[int, int]:
    """[start, stop) of the requested range; the whole file without a Range header."""
    if "Range" not in request.headers:
        return 0, size
    try:
        rng = request.http_range
    except ValueError:
        rng = None
    if rng is None or (rng.start is None and rng.stop is None):
        return 0, size
    start = rng.start if rng.start is not None else 0
    if start < 0:
        start = max(0, size + start)
    stop = size if rng.stop is None else min(rng.stop, size)
    if start >= size or start >= stop:
        raise ApiError(416, "range_not_satisfiable", "Запрошенный фрагмент за пределами записи",
                       size=size)
    return start, stop


async def _send(
    request: web.Request, stream: BinaryIO, recording: Recording, start: int, stop: int,
    size: int, *, download: bool,
) -> web.StreamResponse:
    partial = (start, stop) != (0, size)
    response = web.StreamResponse(status=206 if partial else 200)
    response.content_type = AUDIO_TYPES.get(recording.format or "", "application/octet-stream")
    response.content_length = stop - start
    response.headers["Accept-Ranges"] = "bytes"
    response.headers["Cache-Control"] = "no-store"
    if partial:
        response.headers["Content-Range"] = f"bytes {start}-{stop - 1}/{size}"
    if download:
        response.headers["Content-Disposition"] = (
            f'attachment; filename="recording-{recording.id}.{recording.format or "bin"}"'
        )
    await response.prepare(request)
    await asyncio.to_thread(stream.seek, start)
    left = stop - start
    while left > 0:
        chunk = await asyncio.to_thread(stream.read, min(CHUNK, left))
        if not chunk:
            break
        await response.write(chunk)
        left -= len(chunk)
    await response.write_eof()
    return response


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/calls", list_)
    app.router.add_get("/api/v1/calls/{id}", read)
    app.router.add_get("/api/v1/recordings/{id}/audio", audio)
