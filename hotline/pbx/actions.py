"""What the service asks the PBX to do: callbacks, agent states, transfers.

Every action goes through the supervised AMI connection (timeouts, no blind re-send). Inputs
that end up in AMI headers are checked here — digits for numbers, the PBX's own interface
syntax for phones — so a value typed in the browser can never inject a header or a dialplan
jump. A refused action raises `PbxActionFailed` with a Russian message for the operator.

Several instances (issue 20): only the instance holding the PBX link speaks AMI. Every public
command is a `@command`: on another instance it runs its own checks first (nothing is sent:
the same code, dry), then goes to the holder through `router` by name with its arguments,
where the holder's `serve` runs it again (checked again) and answers with the result or the
Russian error. Commands that need the tracker (a transfer) take the call's id and the
operator's phone, and the holder finds the channel in its own tracker: a channel chosen by
another instance is never sent to the PBX. No answer in time (no holder yet: a takeover is
under way) is `PbxSwitching`, a 503.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import re
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

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
# A call's key: the PBX's own id, after "<pbx>:" for a PBX other than "main".
_CALL_ID = re.compile(r"^(?:[a-z0-9][a-z0-9_-]{0,31}:)?[A-Za-z0-9_.-]{1,64}$")


ACTION_SLACK = 3.0  # seconds a forwarded command may take beyond the holder's AMI timeout
SWITCHING = "АТС сейчас переключается на другой экземпляр службы, повторите через несколько секунд"
_DRY: contextvars.ContextVar[bool] = contextvars.ContextVar("pbx_actions_dry", default=False)


def mode_key(line: str) -> str:
    """The AstDB key the dialplan reads for a line: hotline/mode/<line>."""
    return f"mode/{line}"


class PbxActionFailed(Exception):
    """The PBX did not do what was asked; `message` is for the operator."""

    status = 502
    code = "pbx_refused"

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail


class NotOnCall(PbxActionFailed):
    """The operator's phone has no live leg in the call (nothing to transfer)."""

    status = 409
    code = "not_on_call"


class PbxSwitching(PbxActionFailed):
    """No instance answered for the PBX in time: a takeover is under way."""

    status = 503
    code = "pbx_switching"


FAILURES: dict[str, type[PbxActionFailed]] = {
    cls.__name__: cls for cls in (PbxActionFailed, NotOnCall, PbxSwitching)}


class Router(Protocol):
    """How a command reaches the PBX link's holder (hotline.cluster.commands)."""

    def local(self) -> bool:
        """True on the holder (or alone): the command runs here."""

    async def call(self, target: str, method: str, args: dict[str, Any],
                   timeout: float) -> dict[str, Any]:
        """The holder's answer ({"ok": result} or {"error": {...}}); TimeoutError if none."""


def command(method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """A PBX command: run here on the holder; elsewhere checked here, then run by the holder."""
    signature = inspect.signature(method)

    @functools.wraps(method)
    async def run(self: PbxActions, *args: Any, **kwargs: Any) -> Any:
        router = self.router
        if router is None or router.local() or _DRY.get():
            return await method(self, *args, **kwargs)
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        arguments = {k: v for k, v in bound.arguments.items() if k != "self"}
        token = _DRY.set(True)
        try:
            await method(self, *args, **kwargs)  # the same checks; nothing reaches AMI
        finally:
            _DRY.reset(token)
        try:
            reply = await router.call(self.target, method.__name__, arguments,
                                      self.action_timeout + ACTION_SLACK)
        except TimeoutError:
            raise PbxSwitching(SWITCHING, "no answer from the holder") from None
        if "error" in reply:
            error = reply["error"]
            kind = FAILURES.get(str(error.get("kind")), PbxActionFailed)
            raise kind(str(error.get("message", "")), str(error.get("detail", "")))
        return reply.get("ok")

    run.pbx_command = True  # type: ignore[attr-defined]
    return run


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

    def __init__(self, connection: AmiConnection, *, snapshot: Callable[[str], Any] | None = None,
                 router: Router | None = None, action_timeout: float = 5.0,
                 target: str = "pbx") -> None:
        self.connection = connection
        # The name the holder serves this PBX's commands under ("pbx", "pbx:<name>").
        self.target = target
        self.snapshot = snapshot  # the tracker's view of a call (CallSnapshot | None)
        self.router = router
        self.action_timeout = action_timeout

    async def serve(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        """Another instance's command, on the holder: run (and checked) here, answered."""
        handler = getattr(type(self), method, None)
        if handler is None or not getattr(handler, "pbx_command", False):
            return {"error": {"kind": "PbxActionFailed", "message": f"Неизвестная команда «{method}»"}}
        try:
            result = await handler.__wrapped__(self, **args)
        except PbxActionFailed as exc:
            return {"error": {"kind": type(exc).__name__, "message": exc.message,
                              "detail": exc.detail}}
        except TypeError as exc:
            return {"error": {"kind": "PbxActionFailed",
                              "message": f"Команда «{method}» с неверными аргументами",
                              "detail": str(exc)}}
        return {"ok": result}

    @command
    async def link_state(self) -> str:
        """The PBX link's state as its holder sees it (connected, connecting...); asked of the
        holder from another instance, whose own link is idle."""
        return self.connection.state

    async def _run(self, action: dict[str, Any], what: str) -> None:
        if _DRY.get():
            return
        try:
            reply = await self.connection.send_action(action)
        except AmiError as exc:
            raise PbxActionFailed(f"АТС недоступна: операция «{what}» не выполнена", str(exc)) from exc
        message = reply[0] if isinstance(reply, list) else reply
        if not message.success:
            detail = str(message.get("Message", ""))
            log.warning("pbx refused an action", action=action.get("Action"), detail=detail)
            raise PbxActionFailed(f"АТС отказала: операция «{what}» не выполнена ({detail})", detail)

    @command
    async def write_mode(self, line: str, mode: str) -> None:
        """AstDB hotline/mode/<line> = mode. When the PBX is away, the next connect rewrites it
        (the mode sync writes every line again after each resynchronisation)."""
        if _DRY.get():
            return
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

    @command
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

    @command
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

    @command
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

    @command
    async def queue_remove(self, queue: str, interface: str) -> None:
        await self._run(
            {
                "Action": "QueueRemove",
                "Queue": _checked(_QUEUE, queue, "очередь"),
                "Interface": _checked(_INTERFACE, interface, "телефон оператора"),
            },
            "выход из очереди",
        )

    @command
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

    @command
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

    @command
    async def operator_channel(self, *, call_id: str, interface: str) -> str | None:
        """The operator's newest live leg in the call, found in the holder's tracker (None
        checking on another instance: its tracker sees no calls). NotOnCall if none."""
        _checked(_CALL_ID, call_id, "идентификатор звонка")
        _checked(_INTERFACE, interface, "телефон оператора")
        if _DRY.get() or self.snapshot is None:
            return None
        snapshot = self.snapshot(call_id)
        prefix = interface.lower() + "-"
        channels: list[str] = [c for c in (snapshot.channels if snapshot else ())
                    if c.lower().startswith(prefix)]
        if snapshot is None or snapshot.state == "ended" or not channels:
            raise NotOnCall("Вы не участвуете в этом звонке: переводить нечего")
        return channels[-1]

    @command
    async def transfer_call(self, *, call_id: str, interface: str, context: str,
                            extension: str) -> str | None:
        """Send the citizen of a call from the operator at `interface` to a dialplan place:
        the operator's channel is found here, by the call's id (the holder's tracker).
        Returns the channel transferred (None checking on another instance)."""
        _checked(_CONTEXT, context, "контекст")
        _checked(_CONTEXT, extension, "добавочный")
        channel: str | None = await self.operator_channel.__wrapped__(  # type: ignore[attr-defined]
            self, call_id=call_id, interface=interface)
        if channel is None:
            return None
        await self.blind_transfer.__wrapped__(self, channel, context, extension)  # type: ignore[attr-defined]
        return channel

    # ------------------------------------------------------------ supervision (ChanSpy)

    @command
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
        if not _CALL_ID.match(call_key or ""):
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

    @command
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

    @command
    async def hangup(self, channel: str) -> None:
        """Hang up one channel (by name or Uniqueid): the supervisor's listening leg."""
        await self._run(
            {"Action": "Hangup", "Channel": _checked(_CHANNEL_ID, channel, "канал"),
             "Cause": "16"},
            "завершение прослушивания",
        )
