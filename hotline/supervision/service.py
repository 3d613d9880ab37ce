"""Listening to live calls (контроль разговоров): «Прослушать», «Подсказать», «Вмешаться».

A supervisor (the administrator: any call; an organization's supervisor: its own calls) asks
to listen to a call. The service finds the operator's live channel itself, from the tracker
(the browser only names the call), rings the supervisor's own phone (`User.interface`) and,
when answered, the PBX runs ChanSpy on that channel in the chosen mode (context
`hotline-spy` of config/asterisk/extensions.conf, `hotline.pbx.spy`). A switch of mode is a
Redirect of the same leg to another mode's extension; ending it from the page hangs the leg
up. One listening leg per supervisor's phone at a time.

Every start, switch and end goes to the access log (`supervise_start`, `supervise_switch`,
`supervise_end` on the call, with the mode, the operator and, at the end, how long it
lasted and why it ended): the call's card page shows them. What the PBX reports about the leg
(`Supervision*` events of the tracker) tells when the phone joined and when it hung up.

Several instances (issue 20): the sessions live on the instance holding the PBX link (its
tracker sees the calls and the legs). Another instance checks the request in its view, then
hands it over by ids through the same router as the PBX's commands (`PbxActions`): the
holder's `serve` runs it (checked again, the operator's channel found in its tracker) and
answers with the session or the refusal; no answer in time is `PbxSwitching` (503).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hotline.pbx.sites import PbxSetActions
from hotline.pbx.actions import (
    ACTION_SLACK, FAILURES, SWITCHING, PbxActionFailed, PbxActions, PbxSwitching, Router,
)
from hotline.pbx.events import (
    CallEnded, CallSnapshot, DomainEvent, SupervisionEnded, SupervisionStarted,
    SupervisionSwitched,
)
from hotline.pbx.spy import SpyMode, safe_channel
from journal import audit
from journal.actors import Actor
from journal.audit import AuditAction
from journal.db import unit_of_work
from journal.clock import utc_now

log = structlog.get_logger(__name__)

EndedBy = Literal["page", "phone", "no_answer", "call_ended", "pbx_refused"]
MODE_TITLES: dict[str, str] = {
    "listen": "прослушивание", "whisper": "подсказка", "barge": "вмешательство",
}


class SupervisionRefused(Exception):
    """The request cannot be done now; `code` is stable, `message` is for the person."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Supervisor:
    """Who asks: the signed-in account and its own phone."""

    actor: Actor
    name: str
    interface: str


@dataclass
class Session:
    """One supervisor's phone listening to one call."""

    leg: str  # the listening leg's Uniqueid (Originate's ChannelId)
    supervisor: Supervisor
    call_row_id: int
    pbx_call_id: str
    operator: str
    operator_channel: str
    mode: SpyMode
    requested_at: datetime
    joined_at: datetime | None = None
    modes: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "call_id": self.call_row_id,
            "pbx_call_id": self.pbx_call_id,
            "user_id": self.supervisor.actor.user_id,
            "login": self.supervisor.actor.login,
            "name": self.supervisor.name,
            "interface": self.supervisor.interface,
            "operator": self.operator,
            "mode": self.mode,
            "mode_title": MODE_TITLES[self.mode],
            "state": "listening" if self.joined_at else "ringing",
            "requested_at": self.requested_at.isoformat(),
            "joined_at": self.joined_at.isoformat() if self.joined_at else None,
        }


def operator_channel(snapshot: CallSnapshot) -> tuple[str, str] | None:
    """The current operator and their newest channel in the call, if it is a plain PJSIP
    channel name (the only thing ever handed to ChanSpy)."""
    operator = snapshot.current_operator
    if not operator:
        return None
    prefix = operator.lower() + "-"
    legs = [c for c in snapshot.channels if c.lower().startswith(prefix) and safe_channel(c)]
    return (operator, legs[-1]) if legs else None


@dataclass
class RemoteSession:
    """A session as the holder answered it (on another instance)."""

    data: dict[str, Any]

    @property
    def call_row_id(self) -> int:
        return int(self.data["call_id"])

    def as_json(self) -> dict[str, Any]:
        return self.data


def _who(data: dict[str, Any]) -> Supervisor:
    return Supervisor(Actor(**data["actor"]), str(data["name"]), str(data["interface"]))


class SupervisionService:
    """Live listening sessions, keyed by the supervisor's phone (lowercase interface)."""

    def __init__(
        self,
        actions: PbxActions | PbxSetActions,
        snapshot: Any,  # Callable[[str], CallSnapshot | None]: the tracker's view of a call
        sessions: async_sessionmaker[AsyncSession],
        *,
        now: Any = None,
        router: Router | None = None,
        action_timeout: float = 5.0,
    ) -> None:
        self.actions = actions
        self.router = router
        self.action_timeout = action_timeout
        self.snapshot = snapshot
        self.sessions = sessions
        self.live: dict[str, Session] = {}
        self._now = now or (lambda: utc_now())
        self._tasks: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------ requests from the page

    def of_call(self, pbx_call_id: str) -> list[Session]:
        return [s for s in self.live.values() if s.pbx_call_id == pbx_call_id]

    def _remote(self) -> bool:
        return self.router is not None and not self.router.local()

    async def _ask(self, method: str, who: Supervisor, **args: Any) -> RemoteSession:
        assert self.router is not None
        try:
            reply = await self.router.call(
                "supervision", method,
                {"who": {"actor": asdict(who.actor), "name": who.name,
                         "interface": who.interface}, **args},
                self.action_timeout + ACTION_SLACK)
        except TimeoutError:
            raise PbxSwitching(SWITCHING, "no answer from the holder") from None
        error = reply.get("error")
        if error is not None:
            if error.get("kind") == "SupervisionRefused":
                raise SupervisionRefused(str(error.get("code")), str(error.get("message")))
            kind = FAILURES.get(str(error.get("kind")), PbxActionFailed)
            raise kind(str(error.get("message", "")), str(error.get("detail", "")))
        return RemoteSession(reply["ok"])

    async def serve(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        """Another instance's request, on the holder: run here, answered as JSON."""
        try:
            who = _who(args["who"])
            if method == "request":
                mode = str(args["mode"])
                if mode not in MODE_TITLES:
                    raise SupervisionRefused("invalid_mode", f"Недопустимый режим «{mode}»")
                session = await self.request(who, int(args["call_row_id"]),
                                             str(args["pbx_call_id"]), mode)  # type: ignore[arg-type]
            elif method == "stop":
                session = await self.stop(who, str(args["pbx_call_id"]))
            else:
                raise SupervisionRefused("unknown", f"Неизвестная команда «{method}»")
        except SupervisionRefused as exc:
            return {"error": {"kind": "SupervisionRefused", "code": exc.code,
                              "message": exc.message}}
        except PbxActionFailed as exc:
            return {"error": {"kind": type(exc).__name__, "message": exc.message,
                              "detail": exc.detail}}
        except (KeyError, TypeError, ValueError) as exc:
            return {"error": {"kind": "SupervisionRefused", "code": "invalid_input",
                              "message": f"Команда «{method}» с неверными аргументами ({exc})"}}
        return {"ok": session.as_json()}

    async def request(self, who: Supervisor, call_row_id: int, pbx_call_id: str,
                      mode: SpyMode) -> Session | RemoteSession:
        """Start listening in `mode`, or switch mode when this phone already listens to it."""
        if self._remote():
            return await self._ask("request", who, call_row_id=call_row_id,
                                   pbx_call_id=pbx_call_id, mode=mode)
        current = self.live.get(who.interface.lower())
        if current is not None:
            if current.pbx_call_id != pbx_call_id:
                raise SupervisionRefused(
                    "busy", "Ваш телефон уже подключён к другому разговору: сначала завершите его")
            return await self._switch(current, mode)
        return await self._start(who, call_row_id, pbx_call_id, mode)

    async def _start(self, who: Supervisor, call_row_id: int, pbx_call_id: str,
                     mode: SpyMode) -> Session:
        snapshot = self.snapshot(pbx_call_id)
        if snapshot is None or snapshot.state != "talking":
            raise SupervisionRefused("not_talking", "Разговор сейчас не идёт: слушать нечего")
        found = operator_channel(snapshot)
        if found is None:
            raise SupervisionRefused("not_talking", "Оператор этого звонка сейчас не на линии")
        operator, channel = found
        if operator.lower() == who.interface.lower():
            raise SupervisionRefused("own_call", "Это разговор с вашего же телефона")
        session = Session(
            leg=f"spy-{secrets.token_hex(8)}", supervisor=who, call_row_id=call_row_id,
            pbx_call_id=pbx_call_id, operator=operator, operator_channel=channel, mode=mode,
            requested_at=self._now(), modes=[mode],
        )
        self.live[who.interface.lower()] = session
        try:
            await self.actions.spy_originate(
                interface=who.interface, mode=mode, target=channel, call_key=pbx_call_id,
                channel_id=session.leg, caller_name=f"Контроль: {operator.split('/')[-1]}",
                caller_number=operator.split("/")[-1],
            )
        except PbxActionFailed:
            self.live.pop(who.interface.lower(), None)
            raise
        await self._audit(session, AuditAction.SUPERVISE_START, {
            "mode": mode, "operator": operator, "interface": who.interface,
            "pbx_call_id": pbx_call_id,
        })
        log.info("supervision requested", call_id=pbx_call_id, mode=mode,
                 user_id=who.actor.user_id, operator=operator)
        return session

    async def _switch(self, session: Session, mode: SpyMode) -> Session:
        if mode == session.mode:
            return session
        if session.joined_at is None:
            raise SupervisionRefused(
                "not_joined", "Ваш телефон ещё не ответил: режим можно сменить после ответа")
        previous = session.mode
        await self.actions.spy_switch(session.leg, mode)
        session.mode = mode
        session.modes.append(mode)
        await self._audit(session, AuditAction.SUPERVISE_SWITCH, {
            "mode": mode, "previous": previous, "operator": session.operator,
            "interface": session.supervisor.interface,
        })
        return session

    async def stop(self, who: Supervisor, pbx_call_id: str) -> Session | RemoteSession:
        """Hang up this supervisor's listening leg of the call (from the page)."""
        if self._remote():
            return await self._ask("stop", who, pbx_call_id=pbx_call_id)
        session = self.live.get(who.interface.lower())
        if session is None or session.pbx_call_id != pbx_call_id:
            raise SupervisionRefused("not_listening", "Вы не слушаете этот разговор")
        try:
            await self.actions.hangup(session.leg)
        except PbxActionFailed as exc:
            log.info("listening leg already gone", leg=session.leg, detail=exc.detail)
        await self._finish(session, "page")
        return session

    # ------------------------------------------------------------ what the PBX reports

    def on_events(self, events: Sequence[DomainEvent]) -> None:
        """The tracker's events: the phone joined, switched (its own keys or ours), hung up,
        or the call ended."""
        for event in events:
            if isinstance(event, SupervisionStarted | SupervisionSwitched | SupervisionEnded):
                session = self.live.get((event.interface or "").lower())
                if session is None or session.pbx_call_id != event.call_id:
                    continue
                if isinstance(event, SupervisionStarted):
                    session.joined_at = session.joined_at or event.at
                elif isinstance(event, SupervisionSwitched):
                    session.mode = event.mode
                else:
                    self._spawn(self._finish(session, "phone" if event.joined else "no_answer",
                                             seconds=event.seconds))
            elif isinstance(event, CallEnded):
                for session in self.of_call(event.call_id):
                    self._spawn(self._finish(session, "call_ended"))

    async def _finish(self, session: Session, ended_by: EndedBy,
                      seconds: int | None = None) -> None:
        key = session.supervisor.interface.lower()
        if self.live.get(key) is not session:
            return  # already finished (from the page, then the PBX's hangup came)
        del self.live[key]
        if seconds is None and session.joined_at is not None:
            seconds = max(0, int((self._now() - session.joined_at).total_seconds()))
        await self._audit(session, AuditAction.SUPERVISE_END, {
            "mode": session.mode, "modes": session.modes, "seconds": seconds or 0,
            "joined": session.joined_at is not None, "ended_by": ended_by,
            "operator": session.operator, "interface": session.supervisor.interface,
        })
        log.info("supervision ended", call_id=session.pbx_call_id, ended_by=ended_by,
                 seconds=seconds)

    async def _audit(self, session: Session, action: AuditAction, details: dict[str, Any]) -> None:
        try:
            async with unit_of_work(self.sessions) as db:
                await audit.record(db, session.supervisor.actor, action, "call",
                                   session.call_row_id, details)
        except Exception:
            log.exception("supervision not audited", action=str(action),
                          call_id=session.pbx_call_id)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro, name="supervision-audit")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def stop_all(self) -> None:
        """On shutdown: the audit writes in flight finish (or are cancelled)."""
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=5)
        for task in list(self._tasks):
            task.cancel()
