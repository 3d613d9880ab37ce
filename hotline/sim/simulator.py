"""A PBX simulator that speaks AMI like Asterisk 22 (see ../shared/ami-transcripts).

It backs `hotline demo`, operator training, the integration tests and the benchmarks: an
asyncio TCP server with per-client AMI sessions, a small in-memory PBX (channels, bridges,
queues with members, AstDB) configured from `config/hotline.toml`, call scenarios played from
templates derived from the real transcripts, the actions the service sends, a control API to
drive calls from Python (and the operators' phones: `pause_from_phone`, `set_reachable`, with
the same queue-member events Asterisk sends), a load helper and fault injection.

    async with PbxSimulator(settings, time_scale=0.01) as sim:
        call = sim.place_call("88007758565", "79161234567", "Иванов Иван Петрович")
        await call.finished()
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import structlog

from hotline.pbx.config.render import CHANNEL_VARS, EXCLUDED_EVENTS
from hotline.config import Settings
from hotline.sim.actions import Actions
from hotline.sim.agi import AgiTarget
from hotline.sim.calls import (
    SCENARIOS,
    Answer,
    Call,
    CallEngine,
    CallSpec,
    HangupChannel,
    Scenario,
    Timing,
    scenario_name,
)
from hotline.sim.dialplan import Dialplan, Phone, default_roster
from hotline.sim.model import Member, Queue, SimClock
from hotline.sim.pbx import Pbx
from hotline.sim.recorder import SpoolRecorder
from hotline.sim.server import AmiServer
from hotline.sim.wire import Headers

__all__ = [
    "SCENARIOS",
    "Call",
    "LoadReport",
    "PbxSimulator",
    "Phone",
    "Scenario",
    "Timing",
    "random_caller",
]

log = structlog.get_logger(__name__)

EventListener = Callable[[Headers], None]

_FIRST = [
    "Иван", "Мария", "Пётр", "Анна", "Сергей", "Ольга", "Алексей", "Татьяна", "Дмитрий", "Елена",
]
_LAST = [
    "Иванов", "Смирнов", "Кузнецов", "Попов", "Соколов", "Лебедев", "Козлов", "Новиков", "Морозов",
    "Волков",
]
_MIDDLE = ["Иванович", "Петрович", "Сергеевич", "Алексеевич", "Дмитриевич", "Андреевич"]


def random_caller(rng: random.Random) -> tuple[str, str]:
    """A Russian mobile number and a full name in Cyrillic (feminine forms where needed)."""
    number = "79" + "".join(str(rng.randrange(10)) for _ in range(9))
    first, last, middle = rng.choice(_FIRST), rng.choice(_LAST), rng.choice(_MIDDLE)
    if first[-1] in "ая":
        last, middle = last + "а", middle[:-2] + "на"
    return number, f"{last} {first} {middle}"


@dataclass
class LoadReport:
    """What `run_load` did: outcomes by scenario, wall time, events emitted."""

    calls: int
    outcomes: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    events: int = 0
    failed: int = 0


class PbxSimulator:
    """A simulated Asterisk: AMI server + PBX model + scenario engine.

    `time_scale` multiplies every scripted wait (1.0 real time, 0.001 a thousand times faster).
    `channelvars` are exported on every channel snapshot as `ChanVariable: NAME=value`, as
    `channelvars = HOTLINE_ID` in manager.conf makes Asterisk do; pass () to turn it off.
    `excluded_events` are never sent, as manager.conf's exclude `eventfilter`s make Asterisk
    do. `as_configured=True` takes both from config/asterisk/manager.conf as rendered from the
    settings (what a real Asterisk 22 with the project's config sends); the defaults (only
    HOTLINE_ID, every event) serve the tests of the tracker's fallbacks.
    `recordings_dir` is the monitor spool where MixMonitor and Record() write real WAV files
    as long as each conversation really lasted (as MixMonitor does, also when `time_scale`
    stretches or shrinks the calls); `recording_max_seconds` caps them (tests keep their files
    small with it); `recordings_dir` None writes no files, only the events.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        username: str | None = None,
        secret: str | None = None,
        time_scale: float = 1.0,
        channelvars: Sequence[str] = ("HOTLINE_ID",),
        excluded_events: Sequence[str] = (),
        as_configured: bool = False,
        set_hotline_id: bool = True,
        roster: Mapping[str, Sequence[Phone]] | None = None,
        agents_per_queue: int | None = None,
        timing: Timing | None = None,
        auto_answer: bool = True,
        auth_failure_delay: float = 1.0,
        uptime: float = 90.0,
        seed: int | None = None,
        recordings_dir: Path | None = None,
        recording_max_seconds: float | None = None,
        agi: AgiTarget | None = None,
    ) -> None:
        self.settings = settings
        # The service's FastAGI server that the dialplan's AGI() reaches (key 1 in the queue):
        # `agi`, else `[asterisk] agi_host:agi_port` when the service serves it (agi_serve).
        a = settings.asterisk
        self.agi = agi or (AgiTarget(a.agi_host, a.agi_port, a.agi_secret) if a.agi_serve
                           else None)
        self.username = username if username is not None else settings.ami.user
        self.secret = secret if secret is not None else settings.ami.secret
        self.timing = timing or Timing()
        self.auto_answer = auto_answer
        self.auth_failure_delay = auth_failure_delay
        self.ping_silent = False
        self.rng = random.Random(seed)
        self.clock = SimClock(time_scale)
        self.events_emitted = 0
        self._listeners: list[EventListener] = []
        self._as_configured = as_configured
        if as_configured:
            channelvars, excluded_events = CHANNEL_VARS, EXCLUDED_EVENTS
        self._channelvars = tuple(channelvars)
        self._excluded = frozenset(e.lower() for e in excluded_events)
        self._set_hotline_id = set_hotline_id
        chosen = roster if roster is not None else default_roster(settings, agents_per_queue)
        phones = {queue: list(members) for queue, members in chosen.items()}
        self.dialplan = Dialplan(settings, phones)
        self.server = AmiServer(Actions(self).table(), host, port)
        self._uptime = uptime
        self.pbx = self._boot(uptime)
        self._engine: CallEngine | None = None
        # Real WAV files in the PBX's monitor spool (None: events only, no files).
        self.recorder = (
            SpoolRecorder(recordings_dir, recording_max_seconds) if recordings_dir is not None else None
        )

    # -- start / stop ------------------------------------------------------------------

    async def start(self) -> None:
        """Listen for AMI clients (port 0 picks a free port: read `address`)."""
        self._engine = self._new_engine()
        await self.server.start()

    def _new_engine(self) -> CallEngine:
        recorder = self.recorder.write if self.recorder is not None else None
        return CallEngine(self.pbx, self.dialplan, self._set_hotline_id, recorder,
                          ledger=self._as_configured, agi=self.agi)

    async def stop(self) -> None:
        """Stop every call and every session; close the listening socket."""
        if self._engine is not None:
            await self._engine.cancel_all()
        await self.server.stop()

    async def __aenter__(self) -> PbxSimulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def address(self) -> tuple[str, int]:
        return self.server.host, self.server.port

    @property
    def engine(self) -> CallEngine:
        if self._engine is None:
            raise RuntimeError("the simulator is not started")
        return self._engine

    # -- events ------------------------------------------------------------------------

    def add_listener(self, listener: EventListener) -> None:
        """Also hand every event (as ordered header pairs) to `listener`, e.g. a recorder."""
        self._listeners.append(listener)

    def remove_listener(self, listener: EventListener) -> None:
        self._listeners.remove(listener)

    def _emit(self, headers: Headers) -> None:
        if self._excluded and headers and headers[0][1].lower() in self._excluded:
            return
        self.events_emitted += 1
        self.server.broadcast(headers)
        for listener in self._listeners:
            listener(headers)

    def _boot(self, uptime: float) -> Pbx:
        pbx = Pbx(self.clock, self._emit, self._channelvars)
        now = self.clock.now()
        pbx.state.started = now - uptime
        pbx.state.reloaded = now - uptime
        login_time = int(now - uptime)
        for org in self.settings.organizations:
            for name in (org.level1_queue, org.level2_queue):
                phones = self.dialplan.roster.get(name, [])
                members = [Member(p.interface, p.name, login_time=login_time) for p in phones]
                pbx.state.queues[name] = Queue(name, members)
        return pbx

    # -- control API -------------------------------------------------------------------

    def place_call(
        self,
        line: str,
        caller: str | None = None,
        name: str | None = None,
        scenario: str = "operator_answered",
        *,
        agent: str | None = None,
        auto_answer: bool | None = None,
        timing: Timing | None = None,
    ) -> Call:
        """A citizen calls `line`; the scenario decides what the citizen and operator do.

        `agent` picks the operator's phone (e.g. "PJSIP/op102") instead of rrmemory.
        `auto_answer=False` leaves the phone ringing until `answer(interface)`.
        The line's mode is read from AstDB `hotline/mode/<line>` as the dialplan does; when the
        key is missing, the scenario's natural mode is used.
        """
        chosen = scenario_name(scenario)
        if chosen == "callback_originate":
            raise ValueError("a callback starts with originate_callback(), not place_call()")
        self.settings.line(line)
        if caller is None or name is None:
            random_num, random_name = random_caller(self.rng)
            caller, name = caller or random_num, name if name is not None else random_name
        spec = CallSpec(
            scenario=chosen,
            line=line,
            caller_num=caller,
            caller_name=name,
            agent=agent,
            auto_answer=self.auto_answer if auto_answer is None else auto_answer,
            timing=timing or self.timing,
        )
        return self.engine.start(spec)

    def originate_callback(
        self,
        interface: str,
        number: str,
        *,
        callerid: tuple[str, str] = ("", ""),
        variables: Mapping[str, str] | None = None,
        auto_answer: bool | None = None,
        citizen_answers: bool = True,
        timing: Timing | None = None,
    ) -> Call:
        """What an AMI Originate into `callback,<number>` does, without an AMI client."""
        if self.dialplan.phone(interface) is None:
            raise KeyError(interface)
        spec = CallSpec(
            scenario="callback_originate",
            agent=interface,
            timing=timing or self.timing,
            originate_exten=number,
            originate_callerid=callerid,
            originate_variables=dict(variables or {}),
            auto_answer=self.auto_answer if auto_answer is None else auto_answer,
            citizen_answers=citizen_answers,
        )
        return self.engine.start(spec)

    def answer(self, interface: str) -> bool:
        """The operator at `interface` picks up the ringing phone; False if none rings."""
        call = self.engine.ringing_call(interface)
        if call is None:
            return False
        call.inbox.put_nowait(Answer(interface))
        return True

    def hangup(self, channel: str, cause: int = 16) -> bool:
        """Hang up a channel (by name or Uniqueid), or the live channel of an interface."""
        found = self.pbx.state.find_channel(channel)
        if found is None:
            prefix = channel.lower() + "-"
            live = self.pbx.state.channels.values()
            found = next((c for c in live if c.name.lower().startswith(prefix)), None)
        if found is None:
            return False
        return self.engine.send(found, HangupChannel(found, cause))

    def _members(self, interface: str) -> list[tuple[Queue, Member]]:
        queues = self.pbx.state.queues.values()
        return [(q, m) for q in queues if (m := q.member(interface)) is not None]

    def pause_from_phone(self, interface: str, paused: bool, reason: str = "") -> bool:
        """The operator presses the phone's pause key (PauseQueueMember / UnpauseQueueMember
        in every queue of that phone): the same QueueMemberPause events as a QueuePause.
        False when the phone is in no queue."""
        found = self._members(interface)
        for queue, member in found:
            self.pbx.pause_member(queue, member, paused, reason)
        if found and not paused:
            self.engine.member_freed()
        return bool(found)

    def set_reachable(self, interface: str, reachable: bool) -> bool:
        """The phone loses (False) or regains (True) its SIP registration."""
        found = self._members(interface)
        if found:
            self.pbx.set_reachable(found, interface, reachable)
            if reachable:
                self.engine.member_freed()
        return bool(found)

    def set_mode(self, line: str, mode: str) -> None:
        """Put `hotline/mode/<line>` into AstDB (what the service does with DBPut)."""
        self.pbx.state.astdb[f"hotline/mode/{line}"] = mode

    @property
    def active_calls(self) -> int:
        return len(self.engine.calls)

    async def wait_idle(self, timeout: float = 10.0) -> None:
        """Wait until every call has finished (raises TimeoutError)."""
        async with asyncio.timeout(timeout):
            while self.engine.calls:
                tasks = [c.task for c in self.engine.calls if c.task is not None]
                await asyncio.gather(*tasks, return_exceptions=True)

    async def run_load(
        self,
        n_calls: int,
        concurrency: int,
        mix: Mapping[str, float] | None = None,
        lines: Sequence[str] | None = None,
        timeout: float = 300.0,
        ramp: float = 0.0,
        spread: float = 0.5,
    ) -> LoadReport:
        """Place `n_calls` calls, at most `concurrency` at a time, scenarios drawn from `mix`.

        `mix` maps scenario names (or aliases) to weights; by default every call is answered.
        Callbacks in the mix originate from a level-2 phone as the service would.
        `ramp`: calls start at a steady pace, the first `concurrency` of them over that many
        real seconds and the others at the same pace, each once one of the `concurrency`
        places is free (citizens do not all dial in the same millisecond); 0 starts them as
        fast as places free up.
        `spread` varies each call's ringing, talk and patience around the simulator's timing
        (see `Timing.varied`); 0 plays every call alike, in lockstep: the worst bursts.
        """
        weights = {scenario_name(k): v for k, v in (mix or {"operator_answered": 1.0}).items()}
        numbers = list(lines or [line.number for line in self.settings.lines])
        report = LoadReport(calls=n_calls)
        gate = asyncio.Semaphore(concurrency)
        started, events_before = time.monotonic(), self.events_emitted

        async def one(index: int) -> None:
            if ramp > 0:
                # Citizens keep dialling at the ramp's pace: calls waiting for a place would
                # otherwise take every freed place at once, hundreds in the same instant.
                await asyncio.sleep(ramp * index / concurrency)
            async with gate:
                scenario = self.rng.choices(list(weights), list(weights.values()))[0]
                timing = self.timing.varied(self.rng, spread)
                call = self._load_call(scenario, numbers[index % len(numbers)], timing)
                outcome = await call.finished() or "unknown"
                report.outcomes[outcome] = report.outcomes.get(outcome, 0) + 1
                if outcome in ("failed", "cancelled"):
                    report.failed += 1

        async with asyncio.timeout(timeout):
            await asyncio.gather(*(one(i) for i in range(n_calls)))
        report.seconds = time.monotonic() - started
        report.events = self.events_emitted - events_before
        seconds = round(report.seconds, 3)
        log.info("sim_load_done", calls=n_calls, seconds=seconds, events=report.events)
        return report

    def _load_call(self, scenario: Scenario, line: str, timing: Timing) -> Call:
        if scenario != "callback_originate":
            return self.place_call(line, scenario=scenario, timing=timing)
        org = self.settings.organization(self.settings.line(line).organization)
        phones = self.dialplan.roster.get(org.level2_queue) or []
        if not phones:
            return self.place_call(line, scenario="operator_answered", timing=timing)
        number, _ = random_caller(self.rng)
        phone = self.rng.choice(phones)
        callerid = (line, f"Горячая линия {org.code}")
        return self.originate_callback(phone.interface, number, callerid=callerid, timing=timing)

    # -- fault injection ---------------------------------------------------------------

    def drop_connections(self) -> None:
        """Cut every client connection at once (no Goodbye), as a network failure would."""
        self.server.drop_all()

    async def restart(self, uptime: float = 1.0) -> None:
        """Asterisk restarts: clients are cut, every channel is gone without a Hangup event,
        dynamic queue members and pauses are lost, counters start over; AstDB survives.
        The next login's FullyBooted says `Uptime: <uptime>`."""
        await self.engine.cancel_all()
        self.server.drop_all()
        astdb = dict(self.pbx.state.astdb)
        self.pbx = self._boot(uptime)
        self.pbx.state.astdb.update(astdb)
        self._engine = self._new_engine()
        log.info("sim_restarted", uptime=uptime)
