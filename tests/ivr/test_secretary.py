"""The secretary over a real FastAGI socket: every branch, wrong keys, silence, hang-ups."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from hotline.config import Settings
from hotline.ivr.engine import MessageTaken
from hotline.ivr.fastagi import FastAgiServer
from hotline.ivr.loader import IvrScripts, load_scripts
from hotline.ivr.service import IvrService
from journal.calendar import load_calendar_dir
from journal.cards import CardRules
from tests.support.paths import REPO
from tests.support.agi_peer import HANGUP, SILENCE, AgiPeer, played

FUND = "88007758565"
SOGAZ = "88002009204"
FRIDAY_EVENING = datetime(2026, 11, 27, 11, 0, tzinfo=UTC)  # 18:00 in Barnaul


class RecordingService(IvrService):
    """The service with the journal replaced by a list of the messages it would register."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.messages: list[tuple[str, str, MessageTaken, timedelta]] = []

    async def message_left(
        self, line_number: str, call_id: str, message: MessageTaken, within: timedelta
    ) -> None:
        self.messages.append((line_number, call_id, message, within))


@pytest.fixture(scope="module")
def scripts(settings: Settings) -> IvrScripts:
    return load_scripts(REPO / "ivr_scripts", settings)


@pytest.fixture
async def served(settings: Settings, scripts: IvrScripts) -> AsyncIterator[
        tuple[RecordingService, FastAgiServer]]:
    service = RecordingService(
        settings, scripts, load_calendar_dir(REPO / "config" / "calendar"), None,
        CardRules(), clock=lambda: FRIDAY_EVENING,
    )
    server = FastAgiServer(service.handle, "127.0.0.1", 0, timeout=2.0)
    await server.start()
    yield service, server
    await server.stop()


async def _call(
    server: FastAgiServer, caller: list[str | None], line: str = FUND, **kw: object
) -> AgiPeer:
    """One call from the fake Asterisk; returns once the service has finished with it."""
    peer = AgiPeer(server.port, caller, variables={"HOTLINE_LINE": line, "HOTLINE_ID": "1764241200.40"},
                   **kw)  # type: ignore[arg-type]
    await peer.run()
    await server.idle()
    return peer


MENU_FUND = ["secretary/menu"]


async def test_information_then_goodbye(served: tuple[RecordingService, FastAgiServer]) -> None:
    """Recording notice, greeting with Monday's hours, menu; 1 → an answer; back; silence ×3."""
    service, server = served
    peer = await _call(server, ["1", "2", SILENCE, SILENCE, SILENCE])
    prompts = played(peer.commands)
    assert prompts[:3] == ["secretary/recording-notice", "secretary/greeting", "hours/intro"]
    assert prompts[3:10] == ["day/mon", "hours/from", "time/h08", "time/m30", "hours/to",
                             "time/h17", "time/m30"]
    assert "secretary/info-change-smo" in prompts
    assert "secretary/menu-operator" not in prompts  # no 24/7 team on the fund's line
    assert prompts[-1] == "secretary/goodbye"
    assert prompts.count("secretary/no-input") == 3
    assert service.messages == []
    assert not peer.closed_by_peer  # the service ended the session


async def test_message_with_the_callers_number(served: tuple[RecordingService, FastAgiServer]) -> None:
    """2 → record (ended with #) → the caller's number read back → 1 confirms."""
    service, server = served
    peer = await _call(server, ["2", "#", "1", SILENCE])
    assert 'SET VARIABLE MSG "hotline/20261127/msg-1764241200.42.wav"' in peer.commands
    assert 'SET VARIABLE CHANNEL(hangup_handler_push) "hotline-msg-done,s,1"' in peer.commands
    assert any(c.startswith("RECORD FILE /var/spool/asterisk/monitor/hotline/20261127/"
                            'msg-1764241200.42 wav "#" 180000 BEEP s=5') for c in peer.commands)
    assert 'SAY DIGITS 89131234567 ""' in peer.commands
    assert "HOTLINE_CALLBACK" not in peer.variables  # the handler's default is the caller id
    assert played(peer.commands)[-1] == "secretary/message-thanks"
    [(line, call_id, message, within)] = service.messages
    assert (line, call_id) == (FUND, "1764241200.40")
    assert message.callback_number == "89131234567" and message.number_confirmed
    assert within == timedelta(minutes=60)


async def test_message_with_a_typed_number(served: tuple[RecordingService, FastAgiServer]) -> None:
    """2 → record (silence ends it) → 2 (another number) → a wrong number → typed again,
    read back, confirmed; the dialplan's handler gets it in HOTLINE_CALLBACK."""
    service, server = served
    peer = await _call(server, ["2", SILENCE, "2", "123", "79137654321", "1"])
    assert "secretary/number-invalid" in played(peer.commands)
    assert 'SAY DIGITS 89137654321 ""' in peer.commands
    assert peer.variables["HOTLINE_CALLBACK"] == "89137654321"
    [(_, _, message, _)] = service.messages
    assert message.callback_number == "89137654321"


async def test_invalid_key_then_retry(served: tuple[RecordingService, FastAgiServer]) -> None:
    """7 is no option: "wrong choice", the menu again (without the greeting), then 2."""
    service, server = served
    peer = await _call(server, ["7", "2", "#", "1"])
    prompts = played(peer.commands)
    invalid = prompts.index("secretary/invalid")
    assert prompts[invalid + 1] == "secretary/menu"
    assert prompts.count("secretary/greeting") == 1
    assert len(service.messages) == 1


async def test_repeat_plays_the_greeting_again(served: tuple[RecordingService, FastAgiServer]) -> None:
    """9 repeats the greeting and the menu."""
    _, server = served
    peer = await _call(server, ["9", SILENCE, SILENCE, SILENCE])
    assert played(peer.commands).count("secretary/greeting") == 2


async def test_timeouts_end_with_goodbye(served: tuple[RecordingService, FastAgiServer]) -> None:
    """Silence three times: no-input each time, then goodbye; nothing is registered."""
    service, server = served
    peer = await _call(server, [SILENCE, SILENCE, SILENCE])
    assert played(peer.commands)[-2:] == ["secretary/no-input", "secretary/goodbye"]
    assert service.messages == []


async def test_hangup_mid_menu(served: tuple[RecordingService, FastAgiServer]) -> None:
    """The caller hangs up at the menu: the session ends, no message."""
    service, server = served
    peer = await _call(server, [HANGUP])
    assert peer.closed_by_peer
    assert service.messages == []


async def test_hangup_while_recording_keeps_the_message(
    served: tuple[RecordingService, FastAgiServer]
) -> None:
    """Hanging up is how many callers end a message: it stands, with the caller's number."""
    service, server = served
    await _call(server, ["2", HANGUP])
    [(_, _, message, _)] = service.messages
    assert message.callback_number == "89131234567" and not message.number_confirmed


async def test_anonymous_caller_must_type_a_number(served: tuple[RecordingService, FastAgiServer]) -> None:
    """No caller id: straight to typing; nothing typed → the message has no number."""
    service, server = served
    await _call(server, ["2", "#", SILENCE, SILENCE, SILENCE], callerid="anonymous")
    [(_, _, message, _)] = service.messages
    assert message.callback_number is None


async def test_operator_on_a_24_7_line(served: tuple[RecordingService, FastAgiServer]) -> None:
    """On an insurer's 24/7 line, 0 reaches the level-1 queue; answered: nothing else."""
    service, server = served
    peer = await _call(server, ["0"], line=SOGAZ, queue_status="CONTINUE")
    assert "secretary/menu-operator" in played(peer.commands)
    assert 'EXEC Queue "l1-sogaz,t,,,300"' in peer.commands
    assert "hours/around-the-clock" in played(peer.commands)
    assert service.messages == []


async def test_operator_unanswered_takes_a_message(served: tuple[RecordingService, FastAgiServer]) -> None:
    """Nobody answered within queue_wait: the caller leaves a message instead."""
    service, server = served
    await _call(server, ["0", "#", "1"], line=SOGAZ, queue_status="TIMEOUT")
    [(line, _, _, _)] = service.messages
    assert line == SOGAZ


async def test_operator_key_is_invalid_on_the_funds_line(
    served: tuple[RecordingService, FastAgiServer]
) -> None:
    """No 24/7 team: 0 is a wrong key."""
    _, server = served
    peer = await _call(server, ["0", SILENCE, SILENCE])
    assert "secretary/invalid" in played(peer.commands)
    assert not any(c.startswith("EXEC Queue") for c in peer.commands)


async def test_survey_rating(served: tuple[RecordingService, FastAgiServer]) -> None:
    """/survey: a wrong key, then 4."""
    _, server = served
    peer = await _call(server, ["8", "4"], script="survey")
    assert played(peer.commands) == ["survey/question", "survey/invalid", "survey/question",
                                     "survey/thanks"]


async def test_unknown_line_ends_quietly(served: tuple[RecordingService, FastAgiServer]) -> None:
    """A channel without a known HOTLINE_LINE gets no script (and no exception)."""
    _, server = served
    peer = await _call(server, [], line="123")
    assert peer.commands == ["GET VARIABLE HOTLINE_LINE", "GET VARIABLE HOTLINE_ID"]
