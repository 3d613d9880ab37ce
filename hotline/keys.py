"""Typed keys of the features' long-lived parts in the aiohttp application: the composition
root (`hotline.app`) fills them, the features' views read them. The PBX's parts are absent
when the service runs without a PBX (`create_app(telephony=False)`): read them with `.get`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web

from hotline.alerts.service import AlertService
from hotline.cluster.bus import Bus
from hotline.cluster.commands import Commands
from hotline.cluster.lock import Leadership
from hotline.calls.writer import CallJournalWriter
from hotline.figures.service import FiguresService
from hotline.live.feed import LiveFeed
from hotline.live.hub import Hub
from hotline.live.relay import LocalSockets, Relay
from hotline.modes.sync import ModeSync
from hotline.pbx.feed import PbxFeed
from hotline.pbx.sites import PbxSet, PbxSetActions
from hotline.pbx.ledger import LedgerSweep
from hotline.recordings.service import Recordings
from hotline.reports.digest import DigestJob
from hotline.supervision.service import SupervisionService

# The PBXs (`[[pbx]]`, or the one `[ami]`): every PBX's events as one feed (calls and
# operators, live), the commands each routed to its PBX, each line's mode kept in its PBX's
# AstDB, the journal writer of their calls. `PBX` and `LEDGER` are the first PBX's own (the
# only one's: tests and the demo); `PBX_LEDGERS` every PBX's sweep by name.
PBXS = web.AppKey("pbxs", PbxSet)
PBX = web.AppKey("pbx", PbxFeed)
PBX_ACTIONS = web.AppKey("pbx_actions", PbxSetActions)
MODES = web.AppKey("modes", ModeSync)
CALL_WRITER = web.AppKey("call_writer", CallJournalWriter)
LEDGER = web.AppKey("ledger", LedgerSweep)
PBX_LEDGERS = web.AppKey("pbx_ledgers", dict[str, LedgerSweep])
RECORDINGS = web.AppKey("recordings", Recordings)
# The morning deadline digest: the scheduled job and the latest digest it built.
DIGEST = web.AppKey("digest", DigestJob)
# Live messages to browsers (WebSocket): the in-process hub and the feed filling it.
HUB = web.AppKey("hub", Hub)
LIVE = web.AppKey("live", LiveFeed)
# This instance's own sockets (the WebSocket view subscribes here): the relay between the
# hub of the instance holding the PBX link and the others (or, alone, the hub itself).
SOCKETS: web.AppKey[Relay | LocalSockets] = web.AppKey("sockets")
# Several instances on one PostgreSQL: whether this one holds the PBX link (advisory lock).
LEADERSHIP = web.AppKey("leadership", Leadership)
BUS = web.AppKey("bus", Bus)
# What hears the bus: the relay, the commands, then the features' own (each gets every message).
BUS_LISTENERS = web.AppKey("bus_listeners", list[Callable[[str, dict[str, Any]], None]])
# Commands to the PBX from any instance: a standby's go to the holder over the bus.
COMMANDS = web.AppKey("commands", Commands)
# Supervisors listening to, whispering in and joining live calls (ChanSpy legs).
SUPERVISION = web.AppKey("supervision", SupervisionService)
# The features' Russian titles of their codes (the PBX's states, the lines' modes) by group,
# served beside the journal's in GET /api/v1/dictionaries (`labels`).
LABELS = web.AppKey("labels", Mapping[str, Mapping[str, str]])
# The live figures (lines, organizations, the center; today, 15 and 60 minutes).
FIGURES = web.AppKey("figures", FiguresService)
# Alerts on the live figures (raised and cleared with hysteresis, kept in the journal).
ALERTS = web.AppKey("alerts", AlertService)
