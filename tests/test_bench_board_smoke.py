"""The board benchmark (bench/board.py) still runs on a few calls and prints its conditions
and its three figures; nothing is timed against a target here."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_the_board_benchmark_runs_and_prints_its_conditions() -> None:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    done = subprocess.run([sys.executable, str(REPO / "bench" / "board.py"), "--calls", "40",
                           "--updates", "3"], capture_output=True, text=True, env=environ,
                          cwd=REPO, timeout=120)
    out = done.stdout
    assert done.returncode == 0, done.stderr[-3000:]
    assert re.search(r"^conditions: \d+ x .+; Python .+; 40 calls at once", out, re.MULTILINE), out
    assert re.search(r"^load average before timing: [\d.]+ [\d.]+ [\d.]+", out, re.MULTILINE), out
    assert re.search(r"^load average after timing: [\d.]+ [\d.]+ [\d.]+", out, re.MULTILINE), out
    timed = r"min [\d.]+ \S+ +median [\d.]+ \S+ +max [\d.]+ \S+"
    assert re.search(rf"^one board update .*40 calls\): {timed}", out, re.MULTILINE), out
    assert re.search(rf"^figures core, per domain event .*: {timed}", out, re.MULTILINE), out
