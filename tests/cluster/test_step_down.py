"""What only the holder of the PBX link runs stops when it steps down and starts again when
it takes over (issue 20): the AMI link, the mode sync, the sweep of the PBX's ledger, and
today's figures seeded again from the journal."""

from __future__ import annotations

import asyncio

from hotline.keys import FIGURES, LEADERSHIP, MODES, PBX
from tests.support import service as service_with_pbx

sim = service_with_pbx.sim
client = service_with_pbx.client


def ledger_tasks() -> list[asyncio.Task]:
    return [t for t in asyncio.all_tasks() if t.get_name() == "pbx-ledger" and not t.done()]


async def test_the_holders_work_stops_on_stepping_down_and_starts_again(client, sim) -> None:
    app = client.server.app
    leadership, modes, figures = app[LEADERSHIP], app[MODES], app[FIGURES]
    assert leadership.holds() and modes.running and len(ledger_tasks()) == 1
    await figures.reseeded()  # the start's own taking over, on a busy machine still reading
    seeds = figures.seeds
    written: list[tuple[str, str]] = []

    async def write(line: str, mode: str) -> None:
        written.append((line, mode))

    modes.scheduler._write = write  # noqa: SLF001

    await leadership._released("test: stepped down")  # noqa: SLF001
    assert not modes.running and modes.overrides is None
    assert ledger_tasks() == [], "the ledger sweep stopped"
    assert app[PBX].link_state != "connected"
    await modes.rewrite_all()  # a late resync hook writes nothing once stepped down
    assert written == []

    await leadership._acquired()  # noqa: SLF001
    assert modes.running and len(ledger_tasks()) == 1
    await app[PBX].wait_resynced(2)
    for _ in range(100):
        if figures.seeds > seeds:
            break
        await asyncio.sleep(0.05)
    assert figures.seeds == seeds + 1, "today's figures read again on taking over"
