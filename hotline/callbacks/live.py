"""Callback lists kept live: whenever a callback is taken, dialled, deferred or settled, the
workspaces of its organization (and the administrators) are told at once over the live
channel, `{"type": "callbacks_changed", "organization_id": N}`, and read their lists again;
so a task one operator is dialling stops offering «Позвонить» to the others within a second,
not at the next periodic refresh."""

from __future__ import annotations

from collections.abc import Iterable

from aiohttp import web

from hotline.keys import HUB


def announce(app: web.Application, organization_ids: Iterable[int | None]) -> int:
    """Tell the sockets of these organizations' staff (and administrators) that their
    callback lists changed; how many sockets were told."""
    hub = app.get(HUB)
    if hub is None:
        return 0
    wanted = {org for org in organization_ids if org is not None}
    told = 0
    for subscriber in list(hub):
        if subscriber.is_admin or subscriber.organization_id in wanted:
            for org in sorted(wanted):
                subscriber.put({"type": "callbacks_changed", "organization_id": org})
            told += 1
    return told
