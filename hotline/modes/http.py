"""`/api/v1/modes`: each line's mode now, why, and the next switch."""

from __future__ import annotations


from aiohttp import web

from hotline.modes.schedule import Override, mode_at, next_switch
from hotline.modes.store import active_overrides
from hotline.web.common import iso
from hotline.keys import MODES
from hotline.web.keys import CALENDAR, SESSIONS, SETTINGS
from journal.clock import utc_now


async def modes(request: web.Request) -> web.Response:
    """Each line's mode now, why, and the next switch.

    With the PBX connected the running scheduler's overrides are used (what the PBX was told);
    without it (`telephony=False`) the same answer is computed from the schedule, the
    production calendar and the overrides stored in the journal.
    """
    app, now = request.app, utc_now()
    modes = app.get(MODES)
    overrides: tuple[Override, ...] | None = modes.overrides if modes is not None else None
    if overrides is None:
        overrides = tuple(await active_overrides(app[SESSIONS], now))
    calendar = app[CALENDAR]
    items = []
    for line in app[SETTINGS].lines:
        state = mode_at(line, calendar, now, overrides)
        switch = next_switch(line, calendar, now, overrides)
        items.append({
            "line": line.number, "organization": line.organization,
            "mode": state.mode, "reason": {"code": str(state.reason.code), "text": state.reason.text},
            "next_switch": None if switch is None else {
                "at": iso(switch.at), "mode": switch.mode,
                "reason": {"code": str(switch.reason.code), "text": switch.reason.text},
            },
        })
    return web.json_response({"at": now.isoformat(), "items": items})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/modes", modes)
