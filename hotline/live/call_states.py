"""Where each operator's leg of a call is: ringing, talking, transferred away, ended. Pure.

The workspace pops a call when the operator's phone rings, and then must know when that call
is answered (only then can it be transferred: the PBX refuses to transfer a ringing phone),
transferred on, or over. The call tracker's domain events say all of it per call; this folds
them per (call, operator's interface) into `CallLeg`s, and returns a new leg whenever one
changes, for `LiveFeed` to send as

    {"type": "call_state", "id": journal call id | null, "pbx_call_id", "interface",
     "state": "ringing" | "talking" | "transferred" | "ended", "consultation",
     "answered_at", "ended_at", "reason": "" | "no_answer"}

to the operator(s) whose phone it is. No I/O, no clock: times are the events' own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal, TypeAlias

from hotline.pbx.events import (
    CallEnded,
    CallTransferred,
    DomainEvent,
    OperatorAnswered,
    OperatorRinging,
    RingNoAnswer,
)

LegState: TypeAlias = Literal["ringing", "talking", "transferred", "ended"]


@dataclass(frozen=True, slots=True)
class CallLeg:
    """One operator's phone on one call."""

    pbx_call_id: str
    interface: str
    state: LegState
    consultation: bool = False
    ringing_at: datetime | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    reason: str = ""
    queue: str | None = None  # the queue the call rang from (a pop on connecting shows it)

    @property
    def live(self) -> bool:
        return self.state in ("ringing", "talking")

    def as_message(self, call_row_id: int | None) -> dict[str, Any]:
        return {
            "type": "call_state",
            "id": call_row_id,
            "pbx_call_id": self.pbx_call_id,
            "interface": self.interface,
            "state": self.state,
            "consultation": self.consultation,
            "answered_at": self.answered_at.isoformat() if self.answered_at else None,
            "ended_at": self.ended_at.isoformat() if self.ended_at else None,
            "reason": self.reason,
        }


class CallStates:
    """Domain events in, changed operator legs out."""

    def __init__(self) -> None:
        self._calls: dict[str, dict[str, CallLeg]] = {}

    def feed(self, events: Iterable[DomainEvent]) -> list[CallLeg]:
        out: list[CallLeg] = []
        for event in events:
            out.extend(self._one(event))
        return out

    def knows(self, pbx_call_id: str) -> bool:
        """True while the call is followed (an operator's phone rang for it, not ended)."""
        return pbx_call_id in self._calls

    def live_at(self, interface: str) -> list[CallLeg]:
        """The legs ringing or talking at an interface now (for a socket that just connected)."""
        key = interface.lower()
        return [leg for legs in self._calls.values() for k, leg in legs.items()
                if k == key and leg.live]

    def _one(self, event: DomainEvent) -> list[CallLeg]:
        legs = self._calls.get(event.call_id)
        if isinstance(event, OperatorRinging):
            leg = CallLeg(event.call_id, event.interface, "ringing", event.consultation,
                          ringing_at=event.at, queue=event.queue)
            return self._set(leg)
        if isinstance(event, OperatorAnswered):
            old = (legs or {}).get(event.interface.lower())
            leg = CallLeg(event.call_id, event.interface, "talking", event.consultation,
                          ringing_at=old.ringing_at if old else None, answered_at=event.at,
                          queue=event.queue or (old.queue if old else None))
            return self._set(leg)
        if legs is None:
            return []
        if isinstance(event, RingNoAnswer):
            old = legs.get(event.interface.lower())
            if old is None or old.state != "ringing":
                return []
            return self._set(replace(old, state="ended", ended_at=event.at, reason="no_answer"))
        if isinstance(event, CallTransferred):
            out: list[CallLeg] = []
            old = legs.get((event.from_interface or "").lower())
            if old is not None and old.live:
                out += self._set(replace(old, state="transferred", ended_at=event.at))
            target = legs.get((event.to_interface or "").lower())
            if target is not None and target.live and target.consultation:
                # The consultation became the call: the level-2 operator now has the citizen.
                out += self._set(replace(target, consultation=False))
            return out
        if isinstance(event, CallEnded):
            ended = [replace(leg, state="ended", ended_at=event.at)
                     for leg in legs.values() if leg.live]
            del self._calls[event.call_id]
            return ended
        return []

    def _set(self, leg: CallLeg) -> list[CallLeg]:
        legs = self._calls.setdefault(leg.pbx_call_id, {})
        key = leg.interface.lower()
        if legs.get(key) == leg:
            return []
        legs[key] = leg
        return [leg]
