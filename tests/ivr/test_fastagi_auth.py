"""Only the PBX drives the FastAGI scripts: loopback by default, a shared secret otherwise."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from structlog.testing import capture_logs

from hotline.config import AsteriskSettings, Settings
from hotline.ivr.fastagi import AgiSession, FastAgiServer
from tests.support.paths import REPO
from tests.support.agi_peer import AgiPeer

SECRET = "d1a1plan-shared-secret"


@pytest.fixture
async def server() -> AsyncIterator[tuple[FastAgiServer, list[str]]]:
    """A FastAGI server with a secret whose handler only notes that it ran."""
    ran: list[str] = []

    async def handler(session: AgiSession) -> None:
        ran.append(session.env.get("agi_uniqueid", ""))
        assert "agi_arg_1" not in session.env  # the secret never reaches a script
        await session.command("ANSWER")

    agi = FastAgiServer(handler, "127.0.0.1", 0, timeout=2.0, secret=SECRET)
    await agi.start()
    yield agi, ran
    await agi.stop()


async def _call(agi: FastAgiServer, *args: str, uniqueid: str = "1.1") -> AgiPeer:
    peer = AgiPeer(agi.port, [], uniqueid=uniqueid, variables={"HOTLINE_ID": "1764241200.40"},
                   args=args)
    await peer.run()
    await agi.idle()
    return peer


async def test_a_peer_without_the_secret_runs_nothing(server) -> None:
    """A forged secretary session (no secret, a wrong one, the secret with a byte more) gets
    no command at all; each is counted and logged with its address, never with the secret."""
    agi, ran = server
    counted: list[int] = []
    agi.on_refused = lambda: counted.append(1)  # the app: the hotline_agi_refused counter
    with capture_logs() as logs:
        for args in ((), ("wrong",), (SECRET + "x",), (SECRET[:-1],)):
            peer = await _call(agi, *args)
            assert peer.commands == []
    assert ran == [] and agi.refused == 4 and counted == [1, 1, 1, 1]
    refused = [e for e in logs if e["event"] == "agi peer refused"]
    assert [e["reason"] for e in refused] == ["no secret", "wrong secret", "wrong secret",
                                              "wrong secret"]
    assert all(e["peer"] == "127.0.0.1" for e in refused)
    assert SECRET not in repr(logs)


async def test_the_pbx_with_the_secret_runs_its_script(server) -> None:
    agi, ran = server
    peer = await _call(agi, SECRET, uniqueid="2.2")
    assert ran == ["2.2"] and peer.commands == ["ANSWER"] and agi.refused == 0


def test_without_a_secret_only_loopback_peers_are_served() -> None:
    agi = FastAgiServer(lambda s: None, "127.0.0.1", 0)  # type: ignore[arg-type, return-value]
    assert agi._refusal({}, "127.0.0.1") is None and agi._refusal({}, "::1") is None
    assert agi._refusal({}, "192.0.2.7") is not None
    assert agi._refusal({"agi_arg_1": "anything"}, "10.0.0.5") is not None


def test_fastagi_binds_loopback_unless_told(settings: Settings) -> None:
    """The default is the PBX on the same machine, not every interface."""
    assert AsteriskSettings().agi_bind == "127.0.0.1"
    assert settings.asterisk.agi_bind == "127.0.0.1"


def test_the_dialplan_passes_the_secret_to_both_scripts() -> None:
    """config/asterisk/extensions.conf (rendered) hands ENV(HOTLINE_AGI_SECRET) to the
    secretary and the survey as their first argument."""
    dialplan = (REPO / "config" / "asterisk" / "extensions.conf").read_text(encoding="utf-8")
    for script in ("secretary", "survey"):
        assert f"/{script},${{ENV(HOTLINE_AGI_SECRET)}})" in dialplan
