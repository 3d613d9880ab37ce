"""Reports benchmark: every report of `hotline report` timed on a journal of a big region.

Fills a throwaway PostgreSQL database (`hotline_bench_<random>`, dropped at the end) with a
year of the example region of config/hotline.toml: 1,000,000 cards and 3,000,000 calls over
2026 across the four organizations and their lines (the fund's calls mostly in its working
hours, the insurers' around the clock but mostly by day), appeal types and ПГ topic codes,
complaint reasons, statuses, queue waits and talk times, operators, transfers to level 2,
callbacks, survey ratings and operators' evaluations. The rows are made by the server itself
(`INSERT ... SELECT generate_series`, seeded `random()`), so filling takes minutes, not hours;
they are stored in time order, as the service writes them.

Then it rolls up the call statistics of every past day, as the service's nightly job has done
by "today" (timed: what the first report of a year would pay once, or a restart after a
migration), vacuums and analyzes as autovacuum would have by then, and runs each report as
the service does (the journal's report functions, with the administrator's reach, on a fresh
session each time, "today" being 21 December 2026) and
prints the fastest, the median and the slowest of `--repeat` runs with the conditions (CPU,
load average before and after, the PostgreSQL version and the settings the plans depend on);
the calls of a quarter are also timed without the roll-up, and those of December (from the
21st on read raw):

    python bench/reports.py [--cards 1000000] [--calls 3000000] [--repeat 3] [--keep]
    python bench/reports.py --reuse hotline_bench_ab12cd34    # time again on a kept database

The server is PostgreSQL on 127.0.0.1:5432 as user postgres (`--admin-dsn` to change).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.conditions import cpu_model, load_average  # noqa: E402
from hotline.bootstrap import sync_region  # noqa: E402
from hotline.config import Settings, load_settings  # noqa: E402
from hotline.reports.hours import level2_queues, operator_hours  # noqa: E402
from journal.actors import Actor  # noqa: E402
from journal.calendar import load_calendar_dir  # noqa: E402
from journal.db import make_engine, make_sessionmaker, unit_of_work, upgrade_async  # noqa: E402
from journal.reports.calls import Dimension, call_sections, roll_up_calls  # noqa: E402
from journal.reports.deadlines import deadlines  # noqa: E402
from journal.reports.period import parse_period  # noqa: E402
from journal.reports.pg import pg_report  # noqa: E402
from journal.reports.quality import Bucket, quality_report  # noqa: E402
from journal.reports.sql import REPORT_WORK_MEM  # noqa: E402
from journal.reports.surveys import survey_report  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
OPERATORS_PER_ORG = 12
TODAY = date(2026, 12, 21)  # "today" of the deadlines report: the journal ends the day before
# The server's settings the reports' plans depend on, printed with the figures.
PG_SETTINGS = ("shared_buffers", "work_mem", "effective_cache_size", "jit",
               "max_parallel_workers_per_gather", "max_worker_processes", "random_page_cost",
               "autovacuum")

# Every statement runs on the server; `:name` parameters are filled from the organizations.
FILL_CARDS = """
INSERT INTO cards (id, number, year, sequence, receiving_organization_id, organization_id,
                   received_at, registered_at, channel, form, anonymous, applicant_phone,
                   appeal_type, topic_code, justified, status, due_date, answered_on,
                   forwarded_at, created_at, updated_at, version)
SELECT g, 'B-2026-' || lpad(g::text, 7, '0'), 2026, g, org, holder,
       received, received, channel, form, false, '+7913' || lpad((g % 10000000)::text, 7, '0'),
       kind, topic, justified, status, (received AT TIME ZONE 'Asia/Barnaul')::date + 30,
       CASE WHEN status IN ('done', 'closed') THEN (received AT TIME ZONE 'Asia/Barnaul')::date + 12 END,
       CASE WHEN holder <> org THEN received + interval '2 days' END, received, received, 1
FROM (
    SELECT g, org, CASE WHEN random() < 0.02 THEN orgs[1 + floor(random() * 4)::int] ELSE org END AS holder,
           received, kind,
           CASE kind WHEN 'consultation' THEN (ARRAY['4.1','4.1.1','4.2','4.2','4.3','4.4','4.5',
                     '4.6','4.7','4.8','4.9','4.10','4.11','4.12','4.12.1','4.13','4.14'])[1 + floor(random() * 17)::int]
                     WHEN 'statement' THEN (ARRAY['3.1','3.2.1','3.2.2','3.2.2','3.3','3.4','3.5.1',
                     '3.5.2','3.6','3.6.1'])[1 + floor(random() * 10)::int]
                     WHEN 'proposal' THEN '5' END AS topic,
           CASE WHEN kind = 'complaint' THEN random() < 0.4 END AS justified,
           CASE WHEN random() < 0.85 THEN 'oral' ELSE 'written' END AS form,
           CASE WHEN random() < 0.85 THEN 'hotline' ELSE 'post' END AS channel,
           -- most appeals are answered within days: open cards are mostly recent ones
           CASE WHEN r_status < 0.02 THEN 'cancelled'
                WHEN received > :today - interval '10 days' AND r_status < 0.55 THEN 'in_work'
                WHEN received > :today - interval '10 days' AND r_status < 0.6 THEN 'draft'
                WHEN received > :today - interval '30 days' AND r_status < 0.12 THEN 'in_work'
                WHEN r_status < 0.022 THEN 'in_work'
                WHEN r_status < 0.7 THEN 'closed' ELSE 'done' END AS status
    FROM (
        SELECT g, orgs,
               orgs[CASE WHEN r_org < 0.4 THEN 1 WHEN r_org < 0.7 THEN 2 WHEN r_org < 0.85 THEN 3 ELSE 4 END] AS org,
               (timestamp '2026-01-01' + floor(random() * 354) * interval '1 day'
                + CASE WHEN random() < 0.85 THEN interval '8 hours 30 minutes' + random() * interval '9 hours'
                       ELSE random() * interval '24 hours' END) AT TIME ZONE 'Asia/Barnaul' AS received,
               CASE WHEN r_kind < 0.80 THEN 'consultation' WHEN r_kind < 0.92 THEN 'statement'
                    WHEN r_kind < 0.98 THEN 'complaint' ELSE 'proposal' END AS kind,
               random() AS r_status
        FROM (SELECT g, random() AS r_org, random() AS r_kind, :orgs::bigint[] AS orgs
              FROM generate_series(1, :n) AS g) AS seed
    ) AS base
) AS card
ORDER BY received  -- stored in the order the journal receives them
"""
FILL_REASONS = """
INSERT INTO card_complaint_reasons (card_id, code)
SELECT id, (ARRAY['3','4.1','4.2','5','6.1','7','8','9','10','11','11','11','12','13.1',
                  '13.2','14','15.1','15.2','16','17.1'])[1 + (id % 20)::int] FROM cards WHERE appeal_type = 'complaint'
UNION
SELECT id, (ARRAY['7','10','11','12'])[1 + (id % 4)::int] FROM cards
WHERE appeal_type = 'complaint' AND id % 3 = 0
"""
# Calls: each card gets the call that opened it and, for two in three, a later one (a repeat
# call or a callback) within three weeks; the line and its operators are the receiver's (one
# answered call in fifty with no operator's account, as at a phone nobody is signed in to).
FILL_CALLS = """
INSERT INTO calls (id, pbx_call_id, direction, line_number, organization_id, caller_number,
                   started_at, answered_at, ended_at, queue_wait_seconds, talk_seconds, outcome,
                   card_id, answered_by_id, answered_interface)
SELECT g, 'bench-' || g, CASE WHEN outcome = 'callback' THEN 'out' ELSE 'in' END, line, org,
       phone, started,
       CASE WHEN outcome IN ('answered', 'callback') THEN started + wait * interval '1 second' END,
       started + (wait + coalesce(talk, 0) + 3) * interval '1 second',
       wait, talk, outcome, card_id,
       CASE WHEN outcome IN ('answered', 'callback') AND g % 50 <> 7 THEN op END,
       CASE WHEN outcome IN ('answered', 'callback') THEN 'PJSIP/bench' || op END
FROM (
    SELECT g, c.id AS card_id, c.receiving_organization_id AS org, c.applicant_phone AS phone,
           (:lines::text[])[array_position(:orgs::bigint[], c.receiving_organization_id)] AS line,
           started, outcome,
           CASE WHEN outcome IN ('answered', 'abandoned', 'interrupted')
                THEN floor(-ln(1 - random()) * CASE WHEN outcome = 'abandoned' THEN 70 ELSE 25 END)::int
                ELSE 0 END AS wait,
           CASE WHEN outcome IN ('answered', 'callback') THEN (30 + floor(-ln(1 - random()) * 200))::int END AS talk,
           (:ops::bigint[])[(array_position(:orgs::bigint[], c.receiving_organization_id) - 1) * :per_org
                            + 1 + floor(random() * :per_org)::int] AS op
    FROM (
        SELECT g, 1 + (g - 1) % :cards AS card_id,
               CASE WHEN g <= :cards THEN interval '0'
                    ELSE random() * interval '21 days' END AS later,
               CASE WHEN r < 0.74 THEN 'answered' WHEN r < 0.86 THEN 'abandoned'
                    WHEN r < 0.94 THEN 'secretary' WHEN r < 0.98 THEN 'callback'
                    ELSE 'interrupted' END AS outcome
        FROM (SELECT g, random() AS r FROM generate_series(1, :n) AS g) AS seed
    ) AS s
    JOIN cards AS c ON c.id = s.card_id
    CROSS JOIN LATERAL (SELECT c.received_at + s.later AS started) AS t
) AS call
ORDER BY started  -- stored in the order the journal writer records them
"""
FILL_TRANSFERS = """
INSERT INTO call_transfers (call_id, at, kind, from_interface, to_queue)
SELECT c.id, c.answered_at + interval '90 seconds', 'attended', c.answered_interface,
       (:queues::text[])[array_position(:orgs::bigint[], c.organization_id)]
FROM calls AS c WHERE c.outcome = 'answered' AND c.id % 9 = 0
"""
# A callback task per secretary message of a card. The service keeps at most one pending task
# per card (migration 0008, `ux_callback_tasks_pending_card`): a message while one is pending
# moves it rather than adding a second, and a card done or closed has its waiting callbacks
# cancelled (migration 0009_closed). So of an open card's messages of the last three days (not
# called back yet) the first one's task is pending and the others' cancelled (the duplicates
# migration 0008 cancels), as are those of a card no longer open; older ones are done, one in
# fifty failed.
FILL_CALLBACKS = """
INSERT INTO callback_tasks (card_id, organization_id, contact_phone, due_at, status, attempts,
                            created_at, done_at)
SELECT card_id, organization_id, phone, started_at + interval '1 day',
       CASE WHEN NOT recent THEN CASE WHEN id % 50 = 0 THEN 'failed' ELSE 'done' END
            WHEN open AND row_number() OVER (PARTITION BY card_id, recent ORDER BY started_at, id) = 1
            THEN 'pending' ELSE 'cancelled' END,
       1, started_at, CASE WHEN NOT recent THEN started_at + interval '17 hours' END
FROM (
    SELECT c.id, c.card_id, c.organization_id, coalesce(c.caller_number, '+79130000000') AS phone,
           c.started_at, c.started_at > :today - interval '3 days' AS recent,
           card.status IN ('draft', 'in_work') AS open
    FROM calls AS c JOIN cards AS card ON card.id = c.card_id
    WHERE c.outcome = 'secretary'
) AS message
ORDER BY started_at
"""
FILL_SURVEYS = """
INSERT INTO survey_tasks (card_id, organization_id, mode, phone, status, attempts,
                          next_attempt_at, rating, answered_at, created_at)
SELECT id, organization_id, 'ivr', coalesce(applicant_phone, '+79130000000'), 'done', 1,
       received_at + interval '13 days', (ARRAY[5,5,4,5,3,4,5,2,4,1])[1 + (id / 5 % 10)::int],
       received_at + interval '13 days', received_at + interval '12 days'
FROM cards WHERE status IN ('done', 'closed') AND id % 5 = 0
"""
FILL_EVALUATIONS = """
INSERT INTO evaluations (id, call_id, operator_id, evaluator_id, at, total, comment)
SELECT row_number() OVER (ORDER BY c.id), c.id, c.answered_by_id, :admin,
       c.ended_at + interval '2 days', 0, NULL
FROM calls AS c WHERE c.outcome = 'answered' AND c.answered_by_id IS NOT NULL AND c.id % 97 = 0
"""
# The evaluation sheet's criteria of config/hotline.toml, scored 0..max_score; the sheet's
# total is the share of the maximum in percent (journal.evaluations).
FILL_SCORES = """
INSERT INTO evaluation_scores (evaluation_id, criterion, score)
SELECT e.id, k.criterion, floor(random() * (k.top + 1))::int
FROM evaluations AS e CROSS JOIN unnest(:criteria::text[], :tops::int[]) AS k(criterion, top)
"""
SET_TOTALS = """
UPDATE evaluations AS e SET total = round(100.0 * s.points / :max_total, 1)
FROM (SELECT evaluation_id, sum(score) AS points FROM evaluation_scores GROUP BY evaluation_id) AS s
WHERE s.evaluation_id = e.id
"""


def _sql(template: str, params: dict[str, str]) -> str:
    """Inline the few literal parameters (ids and names made by this script, not input)."""
    for name in sorted(params, key=len, reverse=True):
        template = template.replace(f":{name}", params[name])
    return template


def _array(values: list, kind: str) -> str:
    items = ", ".join(str(v) if kind in ("bigint", "int") else "'" + str(v).replace("'", "''") + "'"
                      for v in values)
    return f"ARRAY[{items}]::{kind}[]"


async def _users(conn: asyncpg.Connection, orgs: list[int]) -> tuple[int, list[int]]:
    """An administrator and OPERATORS_PER_ORG operators per organization, in order."""
    now = datetime.now(UTC)
    admin = await conn.fetchval(
        "INSERT INTO users (login, password_hash, full_name, role, organization_id, active,"
        " failed_logins, created_at) VALUES ('bench-admin', 'x', 'Администратор', 'admin', $1,"
        " true, 0, $2) RETURNING id", orgs[0], now)
    ops = []
    for i, org in enumerate(orgs):
        for k in range(OPERATORS_PER_ORG):
            ops.append(await conn.fetchval(
                "INSERT INTO users (login, password_hash, full_name, role, level, organization_id,"
                " interface, active, failed_logins, created_at) VALUES ($1, 'x', $2, 'operator',"
                " $3, $4, $5, true, 0, $6) RETURNING id",
                f"bench-op{i}-{k}", f"Оператор {i}-{k}", 1 if k % 4 else 2, org,
                f"PJSIP/b{i}-{k}", now))
    return admin, ops


async def fill(dsn: str, settings: Settings, cards: int, calls: int) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT id, code FROM organizations")
        by_code = {r["code"]: r["id"] for r in rows}
        order = [org.code for org in settings.organizations]  # the fund first, as in the config
        orgs = [by_code[c] for c in order]
        lines = [next(ln.number for ln in settings.lines if ln.organization == c) for c in order]
        queues = [org.level2_queue for org in settings.organizations]
        admin, ops = await _users(conn, orgs)
        today = datetime(TODAY.year, TODAY.month, TODAY.day, tzinfo=ZoneInfo(settings.service.timezone))
        params = {
            "orgs": _array(orgs, "bigint"), "lines": _array(lines, "text"),
            "queues": _array(queues, "text"), "ops": _array(ops, "bigint"),
            "per_org": str(OPERATORS_PER_ORG), "admin": str(admin), "cards": str(cards),
            "criteria": _array([c.code for c in settings.evaluation.criteria], "text"),
            "tops": _array([c.max_score for c in settings.evaluation.criteria], "int"),
            "max_total": str(sum(c.max_score for c in settings.evaluation.criteria)),
            "today": f"timestamptz '{today.isoformat()}'",
        }
        await conn.execute("SELECT setseed(0.2026)")
        # No day is rolled up while the journal is filled, so the roll-up's marks of the
        # callbacks (migration 0013, a few per done callback) would mark nothing built:
        # the triggers are off for the bulk insert (about 1 ms a row: minutes for 239,000).
        await conn.execute("ALTER TABLE callback_tasks DISABLE TRIGGER USER")
        steps = [
            ("cards", FILL_CARDS, {"n": str(cards)}), ("complaint reasons", FILL_REASONS, {}),
            ("calls", FILL_CALLS, {"n": str(calls)}), ("transfers", FILL_TRANSFERS, {}),
            ("callbacks", FILL_CALLBACKS, {}), ("surveys", FILL_SURVEYS, {}),
            ("evaluations", FILL_EVALUATIONS, {}), ("scores", FILL_SCORES, {}),
            ("evaluation totals", SET_TOTALS, {}),
        ]
        for name, template, extra in steps:
            t0 = time.perf_counter()
            status = await conn.execute(_sql(template, {**params, **extra}))
            print(f"  {name:<18} {status.split()[-1]:>9} rows  {time.perf_counter() - t0:6.1f} s",
                  flush=True)
        await conn.execute("ALTER TABLE callback_tasks ENABLE TRIGGER USER")
        for table in ("cards", "calls", "call_transfers", "evaluations"):
            await conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                               f" (SELECT max(id) FROM {table}))")
        t0 = time.perf_counter()
        await conn.execute("VACUUM ANALYZE")
        print(f"  {'vacuum analyze':<18} {'':>9}       {time.perf_counter() - t0:6.1f} s", flush=True)
    finally:
        await conn.close()


async def print_conditions(dsn: str) -> None:
    """What the figures depend on besides the code: the machine, its load, the server."""
    conn = await asyncpg.connect(dsn)
    try:
        version = await conn.fetchval("SHOW server_version")
        values = [f"{name}={await conn.fetchval(f'SHOW {name}')}" for name in PG_SETTINGS]
    finally:
        await conn.close()
    print(f"conditions: {os.cpu_count()} x {cpu_model()}; Python {platform.python_version()}",
          flush=True)
    print(f"  PostgreSQL {version}: {', '.join(values)}", flush=True)
    print(f"  each report's transaction: jit=off, work_mem={REPORT_WORK_MEM} "
          "(journal.reports.sql.tune_for_report)", flush=True)


async def _time(run: Callable[[], Awaitable[object]], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        await run()
        times.append(time.perf_counter() - t0)
    return times


async def time_reports(url: str, settings: Settings, repeat: int) -> list[tuple[str, list[float]]]:
    """Each report as `hotline report ...` runs it: one unit of work, the administrator's reach."""
    zone = ZoneInfo(settings.service.timezone)
    calendar = load_calendar_dir(REPO / "config" / "calendar")
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    actor = Actor.system("bench")
    queues = level2_queues(settings)
    results = []
    now = datetime(TODAY.year, TODAY.month, TODAY.day, 8, tzinfo=zone).astimezone(UTC)

    # What the service's nightly job has done by `now`: every past day of the year rolled up.
    year = parse_period(str(TODAY.year), zone)
    t0 = time.perf_counter()
    async with unit_of_work(sessions) as s:
        built = await roll_up_calls(s, year, operator_hours(settings, calendar, year),
                                    level2_queues=queues, now=now)
    print(f"  roll-up of the past days: {built} days built, then their months,"
          f" in {time.perf_counter() - t0:.1f} s",
          flush=True)
    # What autovacuum has done to the roll-up's tables by the time of a report (the server
    # may run with it off, as the development one does): their statistics, and the marks the
    # roll-up deleted (the fill's 3,000,000) cleared from the marks' index, which every
    # report probes once per day of its period.
    async with engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("VACUUM ANALYZE"))

    def calls_report(label: str, rollup: bool = True):
        period = parse_period(label, zone)
        hours = operator_hours(settings, calendar, period)

        async def go() -> None:
            async with unit_of_work(sessions) as s:
                await call_sections(s, actor, period, hours, list(Dimension), level2_queues=queues,
                                    rollup=rollup, now=now)
        return go

    def simple(func, label: str, **kwargs):
        period = parse_period(label, zone)

        async def go() -> None:
            async with unit_of_work(sessions) as s:
                await func(s, actor, period, **kwargs)
        return go

    async def deadlines_report() -> None:
        now = datetime(TODAY.year, TODAY.month, TODAY.day, 8, tzinfo=zone).astimezone(UTC)
        async with unit_of_work(sessions) as s:
            await deadlines(s, actor, TODAY, now, within_days=3)

    reports = [
        ("pg --quarter 2026Q3", simple(pg_report, "2026Q3")),
        ("pg --year 2026", simple(pg_report, "2026")),
        ("calls --month 2026-10 (6 sections)", calls_report("2026-10")),
        ("calls --quarter 2026Q3 (6 sections)", calls_report("2026Q3")),
        ("calls --year 2026 (6 sections)", calls_report("2026")),
        ("calls --quarter 2026Q3, no roll-up", calls_report("2026Q3", rollup=False)),
        ("calls --month 2026-12 (today raw)", calls_report("2026-12")),
        ("deadlines --within 3", deadlines_report),
        ("surveys --quarter 2026Q3", simple(survey_report, "2026Q3")),
        ("quality --quarter 2026Q3 (by month)", simple(quality_report, "2026Q3")),
        ("quality --year 2026 (by week)", simple(quality_report, "2026", bucket=Bucket.WEEK)),
    ]
    try:
        for name, run in reports:
            times = await _time(run, repeat)
            results.append((name, times))
            print(f"  {name:<38} min {min(times):6.2f} s   median {statistics.median(times):6.2f} s"
                  f"   max {max(times):6.2f} s", flush=True)
    finally:
        await engine.dispose()
    return results


async def main_async(args: argparse.Namespace) -> None:
    settings = load_settings(REPO / "config" / "hotline.toml", environ={})
    base = args.admin_dsn.rsplit("/", 1)[0]
    name = args.reuse or f"hotline_bench_{uuid.uuid4().hex[:8]}"
    dsn = f"{base}/{name}"
    url = dsn.replace("postgresql://", "postgresql+asyncpg://")
    admin = await asyncpg.connect(args.admin_dsn)
    try:
        if not args.reuse:
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        if not args.reuse:
            print(f"database {name}: migrating and filling "
                  f"{args.cards:,} cards, {args.calls:,} calls", flush=True)
            await upgrade_async(url)
            engine = make_engine(url)
            await sync_region(make_sessionmaker(engine), settings)
            await engine.dispose()
            t0 = time.perf_counter()
            await fill(dsn, settings, args.cards, args.calls)
            print(f"filled in {time.perf_counter() - t0:.0f} s", flush=True)
        else:
            await upgrade_async(url)  # new indexes of this branch, if any
        await print_conditions(dsn)
        print(f"load average before timing: {load_average()}", flush=True)
        print(f"reports (min, median and max of {args.repeat} runs):", flush=True)
        results = await time_reports(url, settings, args.repeat)
        print(f"load average after timing: {load_average()}", flush=True)
        slow = [name for name, times in results if statistics.median(times) >= 2.0]
        print("every report under 2 s" if not slow else f"over 2 s: {', '.join(slow)}")
    finally:
        if args.keep or args.reuse:
            print(f"kept database {name} (drop it with: dropdb -h 127.0.0.1 -U postgres {name})")
        else:
            admin = await asyncpg.connect(args.admin_dsn)
            try:
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            finally:
                await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=1_000_000)
    parser.add_argument("--calls", type=int, default=3_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the database for --reuse")
    parser.add_argument("--reuse", metavar="DATABASE", help="time the reports on a kept database")
    parser.add_argument("--admin-dsn", default=ADMIN_DSN)
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
