"""Calls and recordings over the API: visibility by organization, Range playback, audit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from hotline.web.keys import SESSIONS
from journal.db import unit_of_work
from journal.models import AuditEntry, Recording
from tests.support.api import Api
from tests.support.calls import AUDIO, add_call_with_recording
from tests.support.playback import playback_audits







async def test_a_range_request_plays_part_of_the_recording_and_is_audited(api: Api, tmp_path: Path) -> None:
    _call, rec = await add_call_with_recording(api, "sogaz", "88002009204", "79130000001", tmp_path)
    await api.login("sogaz-op")
    resp = await api.client.get(f"/api/v1/recordings/{rec}/audio", headers={"Range": "bytes=100-199"})
    assert resp.status == 206
    assert resp.headers["Content-Range"] == f"bytes 100-199/{len(AUDIO)}"
    assert resp.content_type == "audio/ogg" and await resp.read() == AUDIO[100:200]
    whole = await api.client.get(f"/api/v1/recordings/{rec}/audio?download=1")
    assert whole.status == 200 and await whole.read() == AUDIO
    assert "attachment" in whole.headers["Content-Disposition"]
    audits = await playback_audits(api)
    assert [(a.action, a.login, a.object_id) for a in audits] == [
        ("play", "sogaz-op", str(rec)), ("download", "sogaz-op", str(rec)),
    ]
    beyond = await api.client.get(f"/api/v1/recordings/{rec}/audio", headers={"Range": "bytes=99999-"})
    assert beyond.status == 416


async def test_one_listen_in_several_ranges_is_one_audited_play(api: Api, tmp_path: Path) -> None:
    """A player's seeks within one listen are not logged as new plays; starting the recording
    again is a new listen, logged again; another user's listen is their own."""
    _call, rec = await add_call_with_recording(api, "sogaz", "88002009204", "79130000003", tmp_path)
    await api.add_user("sogaz-op2", "sogaz")
    url = f"/api/v1/recordings/{rec}/audio"
    await api.login("sogaz-op")
    for rng in ("bytes=0-", "bytes=300-", "bytes=50-99"):
        assert (await api.client.get(url, headers={"Range": rng})).status in (200, 206)
    assert [(a.action, a.login) for a in await playback_audits(api)] == [("play", "sogaz-op")]
    assert (await api.client.get(url)).status == 200  # from the start again: a new listen
    await api.login("sogaz-op2")
    assert (await api.client.get(url, headers={"Range": "bytes=300-"})).status == 206
    assert [(a.action, a.login) for a in await playback_audits(api)] == [
        ("play", "sogaz-op"), ("play", "sogaz-op"), ("play", "sogaz-op2"),
    ]


async def test_another_organizations_call_and_recording_are_not_found(api: Api, tmp_path: Path) -> None:
    call, rec = await add_call_with_recording(api, "tfoms", "88007758565", "79130000002", tmp_path)
    await api.login("sogaz-op")
    for path in (f"/api/v1/recordings/{rec}/audio", f"/api/v1/calls/{call}"):
        body = await api.call("GET", path, expect=404)
        assert body["error"]["code"] == "not_found"
    assert (await api.call("GET", "/api/v1/calls"))["items"] == []
    assert await playback_audits(api) == []
    async with api.app[SESSIONS]() as session:
        denied = (await session.execute(select(AuditEntry.object_type, AuditEntry.object_id)
                                        .where(AuditEntry.action == "denied"))).all()
    assert sorted(denied) == [("call", str(call)), ("recording", str(rec))]
    await api.login("admin")
    detail = await api.call("GET", f"/api/v1/calls/{call}")
    assert detail["caller_number"] == "79130000002"
    assert detail["recordings"][0]["audio_url"] == f"/api/v1/recordings/{rec}/audio"


async def test_a_tampered_recording_is_refused(api: Api, tmp_path: Path) -> None:
    _call, rec = await add_call_with_recording(api, "sogaz", "88002009204", "79130000003", tmp_path)
    async with unit_of_work(api.app[SESSIONS]) as session:
        (await session.get(Recording, rec)).sha256 = "0" * 64
    await api.login("sogaz-op")
    body = await api.call("GET", f"/api/v1/recordings/{rec}/audio", expect=409)
    assert body["error"]["code"] == "recording_tampered"
    assert await playback_audits(api) == []


async def test_calls_are_filtered_by_time_and_phone(api: Api, tmp_path: Path) -> None:
    await add_call_with_recording(api, "sogaz", "88002009204", "79130000004", tmp_path)
    await add_call_with_recording(api, "sogaz", "88002009204", "79130000005", tmp_path)
    await api.login("sogaz-op")
    found = await api.call("GET", "/api/v1/calls", params={"phone": "+7 913 000-00-05"})
    assert [c["caller_number"] for c in found["items"]] == ["79130000005"]
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert (await api.call("GET", "/api/v1/calls", params={"since": future}))["items"] == []
    assert (await api.call("GET", "/api/v1/calls", params={"phone": "' OR '1'='1"}))["items"] == []
    bad = await api.call("GET", "/api/v1/calls", params={"since": "вчера"}, expect=422)
    assert bad["error"]["code"] == "invalid_input"
