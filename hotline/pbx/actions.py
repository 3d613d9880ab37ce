"""What the service asks the PBX to do: callbacks, agent states, transfers.

Every action goes through the supervised AMI connection (timeouts, no blind re-send). Inputs
that end up in AMI headers are checked here — digits for numbers, the PBX's own interface
syntax for phones — so a value typed in the browser can never inject a header or a dialplan
jump. A refused action raises `PbxActionFailed` with a Russian message for the operator.
"""

from __future__ import annotations

import re
from typing import Any

import structlog

from hotline.pbx.ami.client import AmiConnection, AmiError
from hotline.pbx.spy import (
    SPY_CONTEXT, SPY_TARGET_VARIABLE, SPY_VARIABLE, SpyMode, is_mode, safe_channel,
)

log = structlog.get_logger(__name__)

CALLBACK_CONTEXT = "callback"
SURVEY_CONTEXT = "hotline-survey"
TRUNK_ENDPOINT = "trunk"
ASTDB_FAMILY = "hotline"
ORIGINATE_TIMEOUT_MS = 30_000
_INTERFACE = re.compile(r"^(PJSIP|SIP|IAX2|Local)/[A-Za-z0-9_.@-]{1,64}$")
_QUEUE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_CONTEXT = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_CHANNEL_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def mode_key(line: str) -> str:
    """The AstDB key the dialplan reads for a line: hotline/mode/<line>."""
    return f"mode/{line}"


class PbxActionFailed(Exception):
    """The PBX did not do what was asked; `message` is for the operator."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail


def citizen_number(text: str) -> str:
    """A Russian phone number as the trunk dials it: 11 digits starting with 7 or 8."""
    digits = re.sub(r"\D", "", text or "")
    if len(digits) == 10:
        digits = "7" + digits
    if len(digits) != 11 or digits[0] not in "78":
        raise PbxActionFailed(f"Номер «{text}» не похож на российский телефонный номер")
    return "7" + digits[1:]


def _checked(pattern: re.Pattern[str], value: str, what: str) -> str:
    if not pattern.match(value or ""):
        raise PbxActionFailed(f"Недопустимое значение «{value}»: {what}")
    return value


class PbxActions:
    """The service's commands to the PBX, over one AMI connection."""

    def __init__(self, connection: AmiConnection) -> None:
        self.connection = connection

    async def _run(self, action: dict[str, Any], what: str) -> None:
        try:
            reply = await self.connection.send_action(action)
        except AmiError as exc:
            raise PbxActionFailed(f"АТС недоступна: операция «{what}» не выполнена", str(exc)) from exc
        message = reply[0] if isinstance(reply, list) else reply
        if not message.success:
            detail = str(message.get("Message", ""))
            log.warning("pbx refused an action", action=action.get("Action"), detail=detail)
            raise PbxActionFailed(f"АТС отказала: операция «{what}» не выполнена ({detail})", detail)

    async def write_mode(self, line: str, mode: str) -> None:
        """AstDB hotline/mode/<line> = mode. When the PBX is away, the next connect rewrites it
        (the mode sync writes every line again after each resynchronisation)."""
        if self.connection.state != "connected":
            log.info("mode to be written when the pbx connects", line=line, mode=mode)
            return
        try:
            reply = await self.connection.send_action(
                {"Action": "DBPut", "Family": ASTDB_FAMILY, "Key": mode_key(line), "Val": mode}
            )
        except AmiError as exc:
            log.warning("mode not written", line=line, mode=mode, error=str(exc))
            return
        if isinstance(reply, list) or not reply.success:
            log.error("pbx refused the mode", line=line, mode=mode, reply=str(reply))

    async def place_callback(self, *, card_id: int, interface: str, number: str, line: str) -> None:
        """Ring the operator's phone; when answered, the PBX dials the citizen and records.

        The card's id travels as the channel variable HOTLINE_CARD, so the call attaches to
        its card (РКК) in the journal.
        """
        _checked(_INTERFACE, interface, "телефон оператора")
        dial = citizen_number(number)
        await self._run(
            {
                "Action": "Originate",
                "Channel": interface,
                "Context": CALLBACK_CONTEXT,
                "Exten": dial,
                "Priority": "1",
                "CallerID": f'"Горячая линия" <{re.sub(r"[^0-9]", "", line)}>',
                "Async": "true",
                "Timeout": str(ORIGINATE_TIMEOUT_MS),
                "Variable": f"HOTLINE_CARD={int(card_id)}",
            },
            "обратный звонок",
        )
        log.info("callback placed", card_id=card_id, interface=interface)

    async def place_survey(
        self, *, survey_id: int, card_id: int, number: str, line: str
    ) -> None:
        """Dial the citizen through the trunk; when answered, the channel runs the survey's
        FastAGI script (context hotline-survey) with HOTLINE_SURVEY and HOTLINE_SURVEY_CARD.

        Not HOTLINE_CARD: the tracker would count the call as an operator's callback.
        """
        dial = citizen_number(number)
        await self._run(
            {
                "Action": "Originate",
                "Channel": f"PJSIP/{dial}@{TRUNK_ENDPOINT}",
                "Context": SURVEY_CONTEXT,
                "Exten": dial,
                "Priority": "1",
                "CallerID": f'"Горячая линия" <{re.sub(r"[^0-9]", "", line)}>',
                "Async": "true",
                "Timeout": str(ORIGINATE_TIMEOUT_MS),
                "Variable": f"HOTLINE_SURVEY={int(survey_id)},HOTLINE_SURVEY_CARD={int(card_id)}",
            },
            "звонок-опрос",
        )
        log.info("survey call placed", survey_id=survey_id, card_id=card_id)

    async def queue_add(self, queue: str, interface: str, member_name: str) -> None:
        """The operator joins a queue (встать в очередь)."""
        await self._run(
            {
                "Action": "QueueAdd",
                "Queue": _checked(_QUEUE, queue, "очередь"),
                "Interface": _checked(_INTERFACE, interface, "телефон оператора"),
                "MemberName": member_name[:80],
                "Paused": "false",
            },
            "вход в очередь",
        )

    async def queue_remove(self, queue: str, interface: str) -> None:
        await self._run(
            {
                "Action": "QueueRemove",
                "Queue": _checked(_QUEUE, queue, "очередь"),
                "Interface": _checked(_INTERFACE, interface, "телефон оператора"),
            },
            "выход из очереди",
        )

    async def queue_pause(self, interface: str, paused: bool, reason: str = "") -> None:
        """Pause or resume the operator in every queue (перерыв)."""
        await self._run(
            {
                "Action": "QueuePause",
                "Interface": _checked(_INTERFACE, interface, "телефон оператора"),
                "Paused": "true" if paused else "false",
                "Reason": reason[:80],
            },
            "перерыв" if paused else "возврат с перерыва",
        )

    async def blind_transfer(self, channel: str, context: str, extension: str) -> None:
        """Send a live channel (the operator's leg) to a dialplan place, e.g. level 2."""
        await self._run(
            {
                "Action": "BlindTransfer",
                "Channel": channel,
                "Context": _checked(_CONTEXT, context, "контекст"),
                "Exten": _checked(_CONTEXT, extension, "добавочный"),
            },
            "перевод звонка",
        )

    # ------------------------------------------------------------ supervision (ChanSpy)

    async def spy_originate(
        self, *, interface: str, mode: SpyMode, target: str, call_key: str, channel_id: str,
        caller_name: str, caller_number: str,
    ) -> None:
        """Ring the supervisor's phone; when answered, it listens to `target` (the operator's
        channel) in `mode`. The leg's Uniqueid is `channel_id` (Originate's ChannelId), so it
        can be switched and hung up before the PBX named it; HOTLINE_SPY tags it with the
        call's key for the tracker."""
        _checked(_INTERFACE, interface, "телефон руководителя")
        _checked(_CHANNEL_ID, channel_id, "канал прослушивания")
        if not is_mode(mode):
            raise PbxActionFailed(f"Недопустимый режим «{mode}»")
        if safe_channel(target) is None:
            raise PbxActionFailed(f"Недопустимый канал оператора «{target}»")
        if not _CHANNEL_ID.match(call_key or ""):
            raise PbxActionFailed(f"Недопустимый идентификатор звонка «{call_key}»")
        name = re.sub(r'[\x00-\x1f"<>\\]', "", caller_name)[:60]
        number = re.sub(r"[^A-Za-z0-9]", "", caller_number)[:40]
        await self._run(
            {
                "Action": "Originate",
                "Channel": interface,
                "Context": SPY_CONTEXT,
                "Exten": mode,
                "Priority": "1",
                "CallerID": f'"{name}" <{number}>',
                "ChannelId": channel_id,
                "Async": "true",
                "Timeout": str(ORIGINATE_TIMEOUT_MS),
                "Variable": f"{SPY_VARIABLE}={call_key},{SPY_TARGET_VARIABLE}={target}",
            },
            "прослушивание разговора",
        )
        log.info("supervision placed", interface=interface, mode=mode, call_id=call_key)

    async def spy_switch(self, channel_id: str, mode: SpyMode) -> None:
        """Move a listening leg to another mode: a Redirect to that mode's extension (ChanSpy
        stops and starts again on the same operator's channel; the phone does not ring)."""
        if not is_mode(mode):
            raise PbxActionFailed(f"Недопустимый режим «{mode}»")
        await self._run(
            {
                "Action": "Redirect",
                "Channel": _checked(_CHANNEL_ID, channel_id, "канал прослушивания"),
                "Context": SPY_CONTEXT,
                "Exten": mode,
                "Priority": "1",
            },
            "смена режима прослушивания",
        )

    async def hangup(self, channel: str) -> None:
        """Hang up one channel (by name or Uniqueid): the supervisor's listening leg."""
        await self._run(
            {"Action": "Hangup", "Channel": _checked(_CHANNEL_ID, channel, "канал"),
             "Cause": "16"},
            "завершение прослушивания",
        )
