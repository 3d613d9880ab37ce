"""The interpreter of the secretary and survey scripts: a state machine over an AGI channel.

It does no I/O of its own: every step is a command on the `Channel` (play, wait for a key,
record, transfer), whose answer decides the next state. The caller may hang up at any point:
the channel raises `Hangup`, and the outcome says how far the call got (a message whose
recording had started counts as left, with the caller's own number unless another was
confirmed). What happens next in the journal is `hotline.ivr.messages`' job.

Dynamic text: the working hours are pre-recorded words (`hotline.ivr.hours`); a callback number
is read back with `SAY DIGITS` (Asterisk's Russian digits), which needs no prompts of ours.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from hotline.ivr.fastagi import Hangup, Reply
from hotline.ivr.numerals import Segment
from hotline.ivr.schema import HOURS, SecretaryScript, SurveyScript
from journal import enp
from journal.enp import ENP_LENGTH

SOUNDS = "hotline"  # the prompts' folder in Asterisk's sounds directory
ALL_KEYS = "0123456789*#"
MESSAGE_DONE_HANDLER = "hotline-msg-done,s,1"  # the dialplan's hangup handler (UserEvent)
DEFAULT_SPOOL = "/var/spool/asterisk"
# QUEUESTATUS values after which nobody took the call: the caller leaves a message instead.
QUEUE_UNANSWERED = frozenset(
    {"TIMEOUT", "FULL", "JOINEMPTY", "LEAVEEMPTY", "JOINUNAVAIL", "LEAVEUNAVAIL", ""}
)


class Channel(Protocol):
    """What the interpreter needs from an AGI session (`hotline.ivr.fastagi.AgiSession`)."""

    env: dict[str, str]

    async def stream(self, prompt: str, escape: str = "") -> str | None: ...
    async def wait_digit(self, timeout_ms: int) -> str | None: ...
    async def get_data(self, prompt: str, timeout_ms: int, max_digits: int) -> str: ...
    async def say_digits(self, digits: str, escape: str = "") -> str | None: ...
    async def record(
        self, path: str, fmt: str, escape: str, max_ms: int, silence_s: int
    ) -> Reply: ...
    async def exec(self, app: str, args: str = "", *, timeout: float = 60.0) -> int: ...
    async def set_variable(self, name: str, value: str) -> None: ...
    async def get_variable(self, name: str) -> str | None: ...
    async def get_full_variable(self, expression: str) -> str | None: ...


@dataclass(frozen=True, slots=True)
class LineContext:
    """The line the call came to, as the secretary needs it."""

    number: str
    organization: str
    queue: str
    queue_wait: int
    around_the_clock: bool
    zone: ZoneInfo
    hours: Sequence[Segment]


@dataclass(slots=True)
class MessageTaken:
    """A message left to the secretary: `file` as the dialplan names it (relative to
    Asterisk's monitor spool), the number to call back (None: no usable number)."""

    file: str
    caller_number: str | None
    callback_number: str | None
    started_at: datetime
    number_confirmed: bool = False
    # The caller's ЕНП typed on the keypad and passing its control digit (None: not given).
    # Personal data: kept here only, never in a channel variable, a log line or `steps`.
    enp: str | None = field(default=None, repr=False)


@dataclass(slots=True)
class Outcome:
    """How a secretary call ended: `steps` is the path through the script (for logs and
    tests), `end` one of goodbye, message, transferred, hangup."""

    steps: list[str] = field(default_factory=list)
    end: str = "goodbye"
    message: MessageTaken | None = None


def usable_number(text: str | None) -> str | None:
    """A Russian phone number to call back: 11 digits from 7 or 8 (stored from 8), or 10
    digits (8 prefixed); anything else (anonymous, short, foreign) is None."""
    digits = re.sub(r"\D", "", text or "")
    if len(digits) == 10:
        return "8" + digits
    if len(digits) == 11 and digits[0] in "78":
        return "8" + digits[1:]
    return None


class Secretary:
    """One run of the secretary script on one channel."""

    def __init__(
        self,
        script: SecretaryScript,
        line: LineContext,
        channel: Channel,
        clock: Callable[[], datetime],
    ) -> None:
        self.script = script
        self.line = line
        self.channel = channel
        self.clock = clock
        self.outcome = Outcome()
        self.timing = script.timing
        self.operator = script.offers_operator() and line.around_the_clock

    async def run(self) -> Outcome:
        """Play the script to its end; a hang-up anywhere ends it quietly."""
        try:
            await self._main()
        except Hangup:
            self.outcome.end = "hangup"
            self.outcome.steps.append("hangup")
        return self.outcome

    # --- states -------------------------------------------------------------------------

    async def _main(self) -> None:
        await self._play(self.script.recording_notice)
        greet = True
        for _ in range(self.timing.max_menu_visits):
            action = await self._menu(greet)
            greet = False
            if action is None:
                break
            self.outcome.steps.append(action)
            if action == "repeat":
                greet = True
            elif action == "info":
                await self._info()
            elif action == "operator":
                if await self._operator():
                    return
                await self._message()
                return
            elif action == "message":
                await self._message()
                return
        await self._play(self.script.goodbye)

    async def _menu(self, greet: bool) -> str | None:
        menu = self.script.menu
        options = {k: a for k, a in menu.options.items() if a != "operator" or self.operator}
        prompts = list(menu.prompts)
        if self.operator and menu.operator_hint:
            prompts.append(menu.operator_hint)
        first = [*self._greeting(), *prompts] if greet else prompts
        key = await self._ask(first, prompts, options.keys())
        return options[key] if key is not None else None

    def _greeting(self) -> list[str]:
        played: list[str] = []
        for item in self.script.greeting:
            if item == HOURS:
                played.extend(segment.prompt for segment in self.line.hours)
            else:
                played.append(item)
        return played

    async def _info(self) -> None:
        info = self.script.info
        keys = [*info.answers, info.back]
        key = await self._ask(info.prompts, info.prompts, keys)
        if key is None or key == info.back:
            self.outcome.steps.append("back")
            return
        self.outcome.steps.append(f"answer:{info.answers[key]}")
        await self._play([info.answers[key]])

    async def _operator(self) -> bool:
        """Transfer to the line's level-1 queue; False if nobody answered in time."""
        assert self.script.operator is not None  # noqa: S101 - offered only with the section
        await self._play(self.script.operator.prompts)
        await self.channel.exec(
            "Queue", f"{self.line.queue},t,,,{self.line.queue_wait}",
            timeout=self.line.queue_wait + 3600.0,
        )
        status = (await self.channel.get_variable("QUEUESTATUS")) or ""
        if status in QUEUE_UNANSWERED:
            self.outcome.steps.append(f"operator-unanswered:{status or '-'}")
            return False
        self.outcome.end = "transferred"
        self.outcome.steps.append("transferred")
        return True

    async def _message(self) -> None:
        spec = self.script.message
        await self._play(spec.before)
        now = self.clock()
        uniqueid = self.channel.env.get("agi_uniqueid", "").strip() or f"{now.timestamp():.6f}"
        local_day = now.astimezone(self.line.zone).strftime("%Y%m%d")
        file = f"hotline/{local_day}/msg-{uniqueid}.wav"
        spool = (await self.channel.get_full_variable("${ASTSPOOLDIR}")) or DEFAULT_SPOOL
        # The dialplan's hangup handler reports the message (UserEvent HotlineMessage) however
        # the call ends, exactly as on the plain-dialplan path: the tracker stays its one writer.
        await self.channel.set_variable("MSG", file)
        await self.channel.set_variable("MSGSTART", str(int(now.timestamp())))
        await self.channel.set_variable("CHANNEL(hangup_handler_push)", MESSAGE_DONE_HANDLER)
        caller = usable_number(self.channel.env.get("agi_callerid"))
        self.outcome.message = MessageTaken(file, caller, caller, now)
        self.outcome.end = "message"
        self.outcome.steps.append("recording")
        await self.channel.record(
            f"{spool}/monitor/{file.removesuffix('.wav')}", "wav", spec.end_key,
            spec.max_seconds * 1000, spec.silence_seconds,
        )
        self.outcome.steps.append("recorded")
        number = await self._callback_number(caller)
        self.outcome.message.callback_number = number
        self.outcome.message.number_confirmed = number is not None
        if number is not None and number != caller:
            await self.channel.set_variable("HOTLINE_CALLBACK", number)
        self.outcome.message.enp = await self._enp()
        await self._play(spec.thanks)

    async def _enp(self) -> str | None:
        """The caller's ЕНП if the script asks for it: 16 digits ending with `#`; `#` alone or
        silence skips; a number failing its control digit is said to be wrong and asked again.
        The steps say what happened, never the digits."""
        spec = self.script.enp
        if spec is None:
            return None
        for _ in range(self.timing.retries):
            typed = await self.channel.get_data(
                f"{SOUNDS}/{spec.ask}", self.timing.digit_timeout_ms * 3, ENP_LENGTH
            )
            digits = typed.strip()
            if not digits:
                self.outcome.steps.append("enp-skipped")
                return None
            if enp.is_valid(digits):
                self.outcome.steps.append("enp-given")
                if spec.thanks:
                    await self._play([spec.thanks])
                return digits
            self.outcome.steps.append("enp-invalid")
            await self._play([spec.invalid])
        self.outcome.steps.append("enp-retries-exhausted")
        return None

    async def _callback_number(self, caller: str | None) -> str | None:
        """The caller's number read back and confirmed, or one typed, read back, confirmed.

        After the retries the caller's own number stands (None if there is none).
        """
        spec = self.script.message
        candidate = caller
        for _ in range(self.timing.retries):
            if candidate is not None:
                await self._play([spec.number_is])
                await self.channel.say_digits(candidate)
                key = await self._ask(
                    [spec.number_confirm], [spec.number_confirm],
                    [spec.confirm_key, spec.other_key],
                )
                if key == spec.confirm_key:
                    self.outcome.steps.append(
                        "number-confirmed" if candidate == caller else "typed-number-confirmed"
                    )
                    return candidate
                if key is None:
                    break
            typed = await self.channel.get_data(
                f"{SOUNDS}/{spec.number_enter}", self.timing.digit_timeout_ms * 2, 11
            )
            if not typed:
                self.outcome.steps.append("number-timeout")
                await self._play(self.script.no_input)
                continue
            candidate = usable_number(typed)
            if candidate is None:
                self.outcome.steps.append(f"number-invalid:{typed}")
                await self._play([spec.number_invalid])
            else:
                self.outcome.steps.append(f"number-typed:{candidate}")
        self.outcome.steps.append("number-default")
        return caller

    # --- primitives -----------------------------------------------------------------------

    async def _play(self, prompts: Sequence[str]) -> None:
        for prompt in prompts:
            await self.channel.stream(f"{SOUNDS}/{prompt}")

    async def _ask(
        self, first: Sequence[str], again: Sequence[str], keys: Iterable[str]
    ) -> str | None:
        """Play the prompts (any key interrupts) and wait for one of `keys`.

        A wrong key or silence plays the matching prompt and asks again (`again`), up to the
        script's retries; then None.
        """
        return await ask(self.channel, self.script.timing.retries,
                         self.script.timing.digit_timeout_ms, first, again, keys,
                         self.script.invalid, self.script.no_input, self.outcome.steps)


async def ask(
    channel: Channel,
    retries: int,
    timeout_ms: int,
    first: Sequence[str],
    again: Sequence[str],
    keys: Iterable[str],
    invalid: Sequence[str],
    no_input: Sequence[str],
    steps: list[str],
) -> str | None:
    """Prompt, read one key; on a wrong key or silence say so and ask again."""
    allowed = set(keys)
    prompts = first
    for _ in range(retries):
        key = None
        for prompt in prompts:
            key = await channel.stream(f"{SOUNDS}/{prompt}", ALL_KEYS)
            if key is not None:
                break
        if key is None:
            key = await channel.wait_digit(timeout_ms)
        if key in allowed:
            return key
        steps.append("timeout" if key is None else f"invalid:{key}")
        for prompt in (no_input if key is None else invalid):
            await channel.stream(f"{SOUNDS}/{prompt}")
        prompts = again
    steps.append("retries-exhausted")
    return None


async def run_survey(script: SurveyScript, channel: Channel) -> tuple[int | None, list[str]]:
    """Ask for a rating; the rating (None: none given) and the steps taken."""
    steps: list[str] = []
    rating = None
    try:
        key = await ask(channel, script.timing.retries, script.timing.digit_timeout_ms,
                        script.question, script.question, script.keys(), script.invalid,
                        script.no_input, steps)
        if key is None:
            for prompt in script.goodbye:
                await channel.stream(f"{SOUNDS}/{prompt}")
            return None, steps
        rating = int(key)
        steps.append(f"rating:{key}")
        for prompt in script.thanks:
            await channel.stream(f"{SOUNDS}/{prompt}")
    except Hangup:
        steps.append("hangup")
    return rating, steps
