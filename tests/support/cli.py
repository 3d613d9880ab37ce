"""The hotline command line run in-process, as a newcomer would type it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.paths import REPO


def hotline(*args: str, stdin: str = "", env: dict[str, str] | None = None,
            cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    environ.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "hotline", "--text-logs", "--log-level", "WARNING", *args],
        input=stdin, capture_output=True, text=True, env=environ, cwd=cwd, timeout=60,
    )

