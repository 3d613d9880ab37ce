"""What a benchmark's figures depend on besides the code: the machine, its load, the server.

Figures taken on a busy machine say little about the code, and figures without their
conditions cannot be compared at all: each benchmark prints these with its figures.
Linux only (`/proc`); elsewhere the unknown parts say so.
"""

from __future__ import annotations

import os
import platform
import time
from importlib import metadata
from pathlib import Path

# The server settings the AMI load's figures depend on (commits, memory, connections).
PG_SETTINGS = ("shared_buffers", "synchronous_commit", "fsync", "wal_sync_method",
               "max_connections", "work_mem", "jit")
PACKAGES = ("aiohttp", "asyncpg", "SQLAlchemy", "panoramisk", "structlog")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_average() -> str:
    """The 1, 5 and 15 minutes' load averages, as `uptime` prints them."""
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg()) + " (1, 5, 15 min)"
    except OSError:
        return "unknown"


def machine() -> str:
    """One line: cores, CPU model, Python and the libraries on the measured path."""
    versions = []
    for name in PACKAGES:
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            pass
    return (f"{os.cpu_count()} x {cpu_model()}; {platform.system()} {platform.release()}; "
            f"Python {platform.python_version()}; {', '.join(versions)}")


async def postgres(dsn: str) -> str:
    """One line: the server's version and the settings the figures depend on."""
    import asyncpg

    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        version = await conn.fetchval("SHOW server_version")
        values = [f"{name}={await conn.fetchval(f'SHOW {name}')}" for name in PG_SETTINGS]
    finally:
        await conn.close()
    return f"PostgreSQL {version}: {', '.join(values)}"


def _cpu_ticks() -> dict[int, tuple[str, int]]:
    """Every process's (command, user + system clock ticks so far)."""
    ticks: dict[int, tuple[str, int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        name, rest = stat[stat.index("(") + 1:stat.rindex(")")], stat[stat.rindex(")") + 2:]
        fields = rest.split()
        ticks[int(entry.name)] = (cmdline.strip() or f"[{name}]", int(fields[11]) + int(fields[12]))
    return ticks


def busiest(seconds: float = 1.0, top: int = 5) -> list[tuple[float, int, str]]:
    """The processes that took the most CPU over `seconds` (share of one core, pid,
    command), this one left out: what else is running beside the benchmark."""
    if not Path("/proc/self/stat").exists():
        return []
    before = _cpu_ticks()
    time.sleep(seconds)
    after = _cpu_ticks()
    hertz = os.sysconf("SC_CLK_TCK")
    me = os.getpid()
    used = []
    for pid, (command, ticks) in after.items():
        if pid == me or pid not in before:
            continue
        share = (ticks - before[pid][1]) / hertz / seconds
        if share >= 0.02:
            used.append((share, pid, command))
    return sorted(used, reverse=True)[:top]


def describe_busiest(seconds: float = 1.0, top: int = 5) -> str:
    """`busiest` as lines for a report: "nothing else" when the machine is quiet."""
    found = busiest(seconds, top)
    if not found:
        return f"  nothing else used 2% of a core over {seconds:g} s"
    return "\n".join(f"  {100 * share:4.0f}% of a core  pid {pid}  {command[:110]}"
                     for share, pid, command in found)
