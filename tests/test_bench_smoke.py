"""The AMI load benchmark still runs end to end (a few calls): its figures are the README's.

Nothing here is timed or compared with a target: the figures of a handful of calls on a busy
CI machine mean nothing. What must hold is that the script plays every call through the real
service and PostgreSQL and reports it, with no call lost and no traceback.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_the_ami_load_benchmark_runs_and_loses_no_call() -> None:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "ami_load.py"), "--run", "throughput",
         "--calls", "20", "--concurrency", "10", "--warmup", "5", "--agents", "4"],
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
