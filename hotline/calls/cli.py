"""`hotline calls list`: stored calls with their operators, transfers, cards and recordings."""

from __future__ import annotations

import json
from collections.abc import Callable
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import click

from hotline.cli.support import CliError, Context, fail_cleanly, open_journal, pass_context, run_async
from journal.actors import Actor
from journal.calls import CallView, list_calls
from journal.clock import utc_now
from journal.labels import title

_SPAN = re.compile(r"^(\d+)\s*([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}

def parse_span(text: str) -> timedelta:
    """"30m", "2h", "7d" -> a timedelta."""
    match = _SPAN.match(text.strip())
    if not match:
        raise CliError(f"--since: «{text}» — ожидается число и единица: 30m, 2h, 7d")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


@click.group("calls")
def calls() -> None:
    """Звонки, сохранённые в журнале."""


@calls.command("list")
@click.option("--since", default="24h", show_default=True, help="За последние 30m / 2h / 7d.")
@click.option("--phone", help="Только звонки с этого номера.")
@click.option("--limit", default=200, show_default=True, type=click.IntRange(1, 10000))
@click.option("--json", "as_json", is_flag=True, help="Вывести JSON (по строке на звонок).")
@pass_context
@fail_cleanly
def calls_list(ctx: Context, since: str, phone: str | None, limit: int, as_json: bool) -> None:
    """Звонки: линия, абонент, направление, время, исход, операторы, переводы, РКК, запись."""
    start = utc_now() - parse_span(since)

    async def go() -> list[CallView]:
        async with open_journal(ctx.settings) as sessions, sessions() as session:
            return await list_calls(session, Actor.system("cli"), since=start, phone=phone,
                                    limit=limit)

    views = run_async(go())
    zone = ZoneInfo(ctx.settings.service.timezone)
    # Several PBXs: each call says which site took it (one PBX: nothing to say).
    site = ctx.settings.pbx_title if len(ctx.settings.pbxs) > 1 else None
    for view in reversed(views):
        click.echo(json.dumps(as_dict(view), ensure_ascii=False) if as_json
                   else as_text(view, zone, site))
    if not views and not as_json:
        click.echo("Звонков нет.")


def as_dict(view: CallView) -> dict[str, object]:
    c = view.call

    def iso(moment: datetime | None) -> str | None:
        return moment.isoformat() if moment else None

    return {
        "id": c.id,
        "pbx_call_id": c.pbx_call_id,
        "pbx": c.pbx,
        "line": c.line_number,
        "caller_number": c.caller_number,
        "caller_name": c.caller_name,
        "direction": c.direction,
        "started_at": iso(c.started_at),
        "answered_at": iso(c.answered_at),
        "ended_at": iso(c.ended_at),
        "queue_wait_seconds": c.queue_wait_seconds,
        "talk_seconds": c.talk_seconds,
        "outcome": c.outcome,
        "end_cause": c.end_cause,
        "operators": list(view.operators),
        "transfers": [
            {"kind": t.kind, "from": t.from_interface, "to_queue": t.to_queue,
             "to": t.to_interface, "at": iso(t.at)}
            for t in view.transfers
        ],
        "card_number": view.card_number,
        "recordings": [r.stored_path or r.pbx_file for r in view.recordings],
    }


def _zone_label(zone: ZoneInfo, moment: datetime) -> str:
    """«UTC+7» (the zone's offset then), «UTC» for UTC."""
    offset = moment.astimezone(zone).utcoffset()
    hours = int(offset.total_seconds() // 3600) if offset else 0
    return "UTC" if not hours else f"UTC{hours:+d}"


def as_text(view: CallView, zone: ZoneInfo | None = None,
            site: Callable[[str], str] | None = None) -> str:
    """One line per call, times in the region's zone (`zone`; UTC without one); `site` names
    the PBX that took it («АТС Омск, второй узел») when there are several."""
    c = view.call
    arrow = "←" if c.direction == "in" else "→"
    tz = zone or ZoneInfo("UTC")
    times = f"{c.started_at.astimezone(tz):%d.%m %H:%M:%S}"
    if c.ended_at:
        times += f"–{c.ended_at.astimezone(tz):%H:%M:%S}"
    who = f"{c.caller_number or '?'}"
    if c.caller_name:
        who += f" «{c.caller_name}»"
    parts = [
        f"{times} {_zone_label(tz, c.started_at)}  {arrow} {c.line_number or '-'}  {who}",
        title("call_outcomes", c.outcome),
    ]
    if site is not None:
        parts.insert(1, f"АТС {site(c.pbx)}")
    if view.operators:
        parts.append("операторы: " + ", ".join(view.operators))
    for t in view.transfers:
        target = t.to_interface or t.to_queue or "?"
        parts.append(f"{title('transfer_kinds', t.kind)} {t.from_interface or '?'} → {target}")
    parts.append(f"РКК {view.card_number}" if view.card_number else "без РКК")
    if view.recordings:
        parts.append("запись: " + ", ".join(r.stored_path or r.pbx_file for r in view.recordings))
    return "  |  ".join(parts)
