"""`hotline serve` as real processes on one PostgreSQL and a simulated PBX (several
instances, issue #20): started, asked for their health, killed with SIGKILL.

Run as `python -m tests.support.instances PORT DB_URL AMI_HOST AMI_PORT TMP [SHARED]`: the
service of the example region, as `tests.support.service.service_settings` sets it up for
tests. SHARED: the PBX's recording spool (`SHARED/pbx`, where the simulator writes) and the
stored recordings (`SHARED/recordings`), as every instance shares them in production.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp

from tests.support.paths import REPO
from tests.support.service import METRICS_TOKEN, SCRAPER


class Instance:
    """One `hotline serve` process."""

    def __init__(self, port: int, db_url: str, ami: tuple[str, int], tmp: Path, name: str,
                 shared: Path | None = None) -> None:
        self.port, self.db_url, self.ami, self.tmp, self.name = port, db_url, ami, tmp, name
        self.shared = shared
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = f"http://127.0.0.1:{port}"

    def start(self) -> Instance:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        with open(self.tmp / f"{self.name}.log", "ab") as log:  # the child keeps its own copy
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "tests.support.instances", str(self.port), self.db_url,
                 self.ami[0], str(self.ami[1]), str(self.tmp / self.name),
                 *([str(self.shared)] if self.shared is not None else [])],
                cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
        return self

    def kill(self) -> None:
        """SIGKILL: no cleanup runs, the sockets are closed by the kernel."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> bool:
        """SIGTERM, then SIGKILL after 15 s; whether it stopped on SIGTERM alone."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
                return False
        return True

    async def health(self) -> dict[str, Any] | None:
        try:
            async with aiohttp.ClientSession() as http, http.get(
                    f"{self.url}/healthz", headers=SCRAPER,
                    timeout=aiohttp.ClientTimeout(total=2)) as resp:
                return await resp.json()
        except (aiohttp.ClientError, TimeoutError, ValueError):
            return None

    async def role(self) -> str | None:
        health = await self.health()
        return health["instance"]["role"] if health and "instance" in health else None

    async def wait_role(self, role: str, timeout: float = 30.0) -> float:
        """Seconds until the instance reports `role` (holder or standby)."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if await self.role() == role:
                return time.monotonic() - started
            await asyncio.sleep(0.05)
        raise AssertionError(f"{self.name} not {role} within {timeout} s; log: "
                             + (self.tmp / f"{self.name}.log").read_text()[-3000:])


def _serve(port: int, db_url: str, ami_host: str, ami_port: int, tmp: Path,
           shared: Path | None = None) -> None:
    from aiohttp import web

    from hotline.app import create_app
    from hotline.config import load_settings

    region = load_settings(REPO / "config" / "hotline.toml", environ={})
    settings = region.model_copy(update={
        "asterisk": region.asterisk.model_copy(update={"agi_serve": False}),
        "service": region.service.model_copy(update={
            "database_url": db_url, "spool_dir": tmp / "spool",
            "recordings_dir": tmp / "recordings",
            "calendar_dir": REPO / "config" / "calendar", "metrics_token": METRICS_TOKEN}),
        "ami": region.ami.model_copy(update={
            "host": ami_host, "port": ami_port, "ping_interval": 0.5, "action_timeout": 2.0,
            "reconnect_min_delay": 0.05, "reconnect_max_delay": 0.2}),
    })
    if shared is not None:
        settings = settings.model_copy(update={
            "service": settings.service.model_copy(update={"recordings_dir": shared / "recordings"}),
            "recordings": settings.recordings.model_copy(update={"pbx_dir": shared / "pbx"}),
        })
    web.run_app(create_app(settings, migrate=False), host="127.0.0.1", port=port,
                access_log=None, print=None)


if __name__ == "__main__":
    _serve(int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]), Path(sys.argv[5]),
           Path(sys.argv[6]) if len(sys.argv) > 6 else None)
