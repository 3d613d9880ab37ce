"""The live board's update cost with 500 calls at once.

Builds the service's own parts without a network: a `LiveFeed` and a `FiguresService` over a
stand-in PBX feed that follows 500 calls in progress (queued, ringing, talking, with their
operators), and times, three runs each (min / median / max):

- one board update: `LiveFeed.board()` (every call in progress) plus the figures' snapshot
  (every line, organization and the center; today, 15 and 60 minutes) and the JSON of both,
  as the administrators' sockets get them;
- feeding the figures core: the domain events of 500 whole calls (arrive, queue, answer or
  abandon, end), per event.

It prints its conditions first (CPU, Python, load average before and after).

    python bench/board.py [--calls 500] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.conditions import cpu_model, load_average  # noqa: E402
from hotline.config import load_settings  # noqa: E402
from hotline.figures.service import FiguresService  # noqa: E402
from hotline.live.feed import LiveFeed  # noqa: E402
from hotline.live.hub import Hub  # noqa: E402
from hotline.pbx.events import (  # noqa: E402
    AgentChanged, AgentSnapshot, CallAbandoned, CallArrived, CallEnded, CallQueued, CallSnapshot,
    OperatorAnswered,
)

REPO = Path(__file__).resolve().parents[1]
T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)


class StandInPbx:
    """What LiveFeed and the figures read of the PBX feed: the calls, the link, the roster."""

    def __init__(self, calls: list[CallSnapshot]) -> None:
        self._calls = calls
        self.link_state = "connected"
        self.roster_complete = True

    def calls(self) -> list[CallSnapshot]:
        return self._calls

    def subscribe_calls(self, _s: object) -> None: ...
    def subscribe_agents(self, _s: object) -> None: ...
    def unsubscribe_calls(self, _s: object) -> None: ...
    def unsubscribe_agents(self, _s: object) -> None: ...


def snapshots(n: int, lines: list[tuple[str, str]], phones: list[str]) -> list[CallSnapshot]:
    out = []
    for i in range(n):
        line, org = lines[i % len(lines)]
        state = ("queued", "ringing", "talking", "talking")[i % 4]
        started = T0 + timedelta(seconds=i)
        out.append(CallSnapshot(
            call_id=f"c{i}", direction="in", line=line, organization=org,
            caller_number=f"7913{i:07d}", caller_name=None, state=state, queue=f"l1-{org}",
            operators=(phones[i % len(phones)],) if state == "talking" else (),
            current_operator=phones[i % len(phones)] if state != "queued" else None,
            transfers=(), recording_file=None, message_file=None, card_id=None,
            channels=(f"PJSIP/trunk-{i:08x}",), started_at=started,
            answered_at=started + timedelta(seconds=15) if state == "talking" else None,
            ended_at=None, outcome=None, resumed=False))
    return out


def call_events(n: int, lines: list[tuple[str, str]], phones: list[str]) -> list:
    events = []
    for i in range(n):
        line, org = lines[i % len(lines)]
        at = T0 + timedelta(seconds=i * 0.5)
        cid = f"e{i}"
        events += [
            CallArrived(call_id=cid, at=at, direction="in", line=line, organization=org,
                        caller_number="79130000000", caller_name=None, channel="c",
                        uniqueid=cid, linkedid=cid),
            CallQueued(call_id=cid, at=at + timedelta(seconds=1), queue=f"l1-{org}", position=1)]
        if i % 5:
            events += [OperatorAnswered(call_id=cid, at=at + timedelta(seconds=12),
                                        interface=phones[i % len(phones)], member_name=None,
                                        queue=f"l1-{org}", hold_time=11, ring_time=2, channel=None),
                       CallEnded(call_id=cid, at=at + timedelta(seconds=200), cause=16,
                                 cause_text=None, outcome="answered")]
        else:
            events += [CallAbandoned(call_id=cid, at=at + timedelta(seconds=40), queue=f"l1-{org}",
                                     hold_time=39, position=1, original_position=1),
                       CallEnded(call_id=cid, at=at + timedelta(seconds=40), cause=16,
                                 cause_text=None, outcome="abandoned")]
    return sorted(events, key=lambda e: e.at)


def summary(values: list[float], unit: str, scale: float) -> str:
    v = sorted(x * scale for x in values)
    return (f"min {v[0]:.3f} {unit}   median {statistics.median(v):.3f} {unit}   "
            f"max {v[-1]:.3f} {unit}")


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--updates", type=int, default=50, help="board updates per run")
    args = parser.parse_args()
    settings = load_settings(REPO / "config" / "hotline.toml", environ={})
    lines = [(ln.number, ln.organization) for ln in settings.lines]
    phones = [f"PJSIP/{p}" for org in settings.organizations
              for p in (*org.level1_phones, *org.level2_phones)]
    phones += [f"PJSIP/extra{i}" for i in range(120)]  # a big room: 130 operators
    print(f"conditions: {os.cpu_count()} x {cpu_model()}; Python {platform.python_version()}; "
          f"{args.calls} calls at once, {len(phones)} operators, {len(lines)} lines")
    print(f"load average before timing: {load_average()}")
    pbx = StandInPbx(snapshots(args.calls, lines, phones))
    hub = Hub()
    live = LiveFeed(hub, None, pbx, lines=settings.lines)  # type: ignore[arg-type]
    figures = FiguresService(settings, None, hub, pbx)  # type: ignore[arg-type]
    figures._held = None
    agents = [AgentChanged(at=T0, previous=None, agent=AgentSnapshot(
        interface=p, member_name=None, queues=("q",), state="ready", paused_reason="",
        device="in_use" if i % 2 else "free", in_call=bool(i % 2), calls_taken=0, last_call=None,
        since=T0, device_since=T0)) for i, p in enumerate(phones)]
    live.on_agents(agents)
    figures.on_agents(agents)
    events = call_events(args.calls, lines, phones)
    feed_runs, board_runs, sizes = [], [], []
    for _ in range(args.repeat):
        figures.core.__init__(figures.core.lines.values(), figures.core.phones, figures.zone, T0)
        figures.core.feed_agents(agents)
        started = time.perf_counter()
        figures.core.feed(events)
        feed_runs.append((time.perf_counter() - started) / len(events))
        started = time.perf_counter()
        for _ in range(args.updates):
            board = json.dumps(live.board(), ensure_ascii=False)
            snap = figures.tick()
            text = json.dumps(figures.message_for(snap, "all", None), ensure_ascii=False)
        board_runs.append((time.perf_counter() - started) / args.updates)
        sizes.append(len(board) + len(text))
    print(f"load average after timing: {load_average()}")
    print(f"one board update (board + figures + JSON, {args.calls} calls): "
          f"{summary(board_runs, 'ms', 1000)}  ({sizes[-1] // 1024} KiB)")
    print(f"figures core, per domain event ({len(events)} events): {summary(feed_runs, 'µs', 1e6)}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
