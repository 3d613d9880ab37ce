"""The benchmarks still run end to end on a little data: their figures are the README's.

Nothing here is timed or compared with a target: the figures of a handful of calls on a busy
CI machine mean nothing. What must hold is that the AMI load script plays every call through
the real service and PostgreSQL and reports it, with no call lost and no traceback, and that
the reports script fills its database (a schema change that the fill breaks fails here),
times every report and drops the database.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import asyncpg

from tests.support.private_pg import PG_ADMIN_DSN
from tests.support.paths import REPO


def test_the_ami_load_benchmark_runs_and_loses_no_call() -> None:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "ami_load.py"), "--run", "throughput",
         "--calls", "20", "--concurrency", "10", "--warmup", "5", "--agents", "4",
         "--repeat", "1"],
        capture_output=True, text=True, env=environ, cwd=REPO, timeout=300,
    )
    out = done.stdout
    assert done.returncode in (0, 1), done.stderr[-3000:]
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    played = re.search(r"AMI events: (\d+) emitted, (\d+) received by the service", out)
    assert played is not None, out
    assert int(played[1]) > 0 and played[1] == played[2]
    assert "bare panoramisk on the same stream: " in out
    assert "screen-pop latency AgentCalled -> WebSocket: " in out
    assert "calls lost: 0;" in out, out
    assert "tracked after the run: 0" in out
    assert "targets: " in out and "0 calls lost met" in out
    # The conditions the figures were taken in, and the summary of the runs.
    assert re.search(r"^conditions: \d+ x .+; Python ", out, re.MULTILINE), out
    for setting in ("shared_buffers", "synchronous_commit", "fsync", "max_connections"):
        assert re.search(rf"^  PostgreSQL \d+.*\b{setting}=", out, re.MULTILINE), (setting, out)
    assert re.search(r"^load average before: [\d.]+ [\d.]+ [\d.]+", out, re.MULTILINE), out
    assert re.search(r"^load average after: [\d.]+ [\d.]+ [\d.]+", out, re.MULTILINE), out
    assert "== throughput: 1 run(s), min / median / max" in out, out
    assert re.search(r"^  calls lost +0 / 0 / 0$", out, re.MULTILINE), out
    assert "targets (throughput, on the medians; lost: in every run): " in out, out


REPORTS = (
    "pg --quarter 2026Q3", "pg --year 2026", "calls --month 2026-10", "calls --quarter 2026Q3",
    "calls --year 2026", "calls --quarter 2026Q3, no roll-up", "calls --month 2026-12",
    "deadlines --within 3", "surveys --quarter 2026Q3", "quality --quarter 2026Q3",
    "quality --year 2026",
)


async def test_the_reports_benchmark_fills_its_database_and_times_every_report() -> None:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "reports.py"), "--cards", "3000", "--calls", "9000",
         "--repeat", "1", "--admin-dsn", PG_ADMIN_DSN],
        capture_output=True, text=True, env=environ, cwd=REPO, timeout=300,
    )
    out = done.stdout
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    name = re.search(r"database (hotline_bench_[0-9a-f]+): migrating and filling 3,000 cards", out)
    assert name is not None, out
    for step in ("cards", "calls", "transfers", "callbacks", "surveys", "evaluations"):
        assert re.search(rf"^  {step} +[1-9]\d* rows", out, re.MULTILINE), (step, out)
    assert re.search(r"^conditions: \d+ x .+; Python ", out, re.MULTILINE), out
    for setting in ("shared_buffers", "work_mem", "jit", "max_parallel_workers_per_gather"):
        assert re.search(rf"^  PostgreSQL \d+.*\b{setting}=", out, re.MULTILINE), (setting, out)
    assert re.search(r"^load average before timing: [\d.]+ [\d.]+ [\d.]+", out, re.MULTILINE), out
    assert re.search(r"^load average after timing: [\d.]+ [\d.]+ [\d.]+", out, re.MULTILINE), out
    assert "roll-up of the past days: 354 days built" in out, out
    timed = r" min +[\d.]+ s +median +[\d.]+ s +max +[\d.]+ s$"
    for report in REPORTS:
        assert re.search(rf"^  {re.escape(report)}.*{timed}", out, re.MULTILINE), (report, out)
    admin = await asyncpg.connect(PG_ADMIN_DSN, timeout=10)
    try:
        left = await admin.fetchval("SELECT count(*) FROM pg_database WHERE datname = $1", name[1])
    finally:
        await admin.close()
    assert left == 0, f"{name[1]} was not dropped"
