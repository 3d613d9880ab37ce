"""Calls of a quarter for the roll-up's tests: seeded at the region's local times, and the working time between two moments."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from journal.reports.calls import HoursInterval
from journal.reports.period import parse_period
from journal.db import unit_of_work
from tests.support.report_data import ZONE, add_call, add_callback, add_card, local


Q4 = parse_period("2026Q4", ZONE)


NOW = local(2026, 12, 15, 10, 0)  # October, November and December so far rolled up


LINES = {"88007758565": "tfoms", "88002009204": "sogaz"}  # 8:30-17:30 on working days; 24/7
# Phones answering with no operator's account (config/hotline.toml).
PHONES = {"tfoms": ["PJSIP/op102", "PJSIP/op201"], "sogaz": ["PJSIP/op1101"]}


async def seed(sessions, people, rng: random.Random, n: int = 160) -> list[dict]:
    """Random incoming calls over 1 October - 31 December; secretary messages with cards,
    most called back (some twice, some after the quarter, one card's callback before its
    second message), others pending or cancelled. Returns what was written, for the check."""
    orgs, ops = people.orgs, {"tfoms": people.tfoms_op.user_id, "sogaz": people.sogaz_op.user_id}
    calls: list[dict] = []
    async with unit_of_work(sessions) as s:
        card = None
        for i in range(n):
            line = rng.choice(list(LINES))
            org = LINES[line]
            start = local(2026, 10, 1) + timedelta(seconds=rng.randrange(92 * 86400))
            outcome = rng.choice(["answered"] * 5 + ["abandoned"] * 2 + ["secretary"] * 3)
            row = {"line": line, "start": start, "outcome": outcome, "wait": None, "talk": None,
                   "done": []}
            kwargs = {}
            if outcome in ("answered", "abandoned"):
                row["wait"] = rng.randrange(0, 120)
                kwargs["queue_wait_seconds"] = row["wait"]
            if outcome == "answered":
                row["talk"] = rng.randrange(20, 600)
                kwargs["talk_seconds"] = row["talk"]
                # One in four at a phone with no operator's account credited (its own row of
                # the operators' section), the rest by the organization's operator at op101.
                if rng.random() < 0.25:
                    row["phone"] = rng.choice(PHONES[org])
                    kwargs["answered_interface"] = row["phone"]
                else:
                    row["operator"] = ops[org]
                    kwargs.update(answered_by_id=ops[org], answered_interface="PJSIP/op101")
            if outcome == "secretary":
                if card is None or i % 4:  # every fourth message is a second one of a card
                    card = await add_card(s, orgs, org, received=start,
                                          appeal_type="consultation", topic="4.2",
                                          status="in_work")
                    row["card"] = card.id
                    fate = rng.random()
                    if fate < 0.75:
                        for _ in range(1 if fate < 0.6 else 2):
                            done = start + timedelta(seconds=rng.randrange(600, 6 * 86400))
                            row["done"].append(done)
                            await add_callback(s, card, due=done + timedelta(hours=2),
                                               status="done", done=done)
                    else:
                        await add_callback(s, card, due=start + timedelta(days=1),
                                           status="pending" if fate < 0.9 else "cancelled")
                else:  # the card of the previous message: its callbacks count for this one
                    row["card"] = card.id
                    row["done"] = next(c["done"] for c in reversed(calls) if c.get("card") == card.id)
                kwargs["card_id"] = card.id
            await add_call(s, orgs, org, line, start, outcome, **kwargs)
            calls.append(row)
    return calls


def worked(hours: list[HoursInterval], line: str, at: datetime) -> float:
    """The line's working seconds of the intervals given up to `at`."""
    return sum(max(0.0, (min(at, h.end) - h.start).total_seconds())
               for h in hours if h.line == line and h.start <= at)

