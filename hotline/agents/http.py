"""The operator's telephony from the workspace: queue membership (agent state) and transfers.

- `GET  /api/v1/agent`          the operator's queue state as this service last set it,
                                and the PBX link's state (`pbx`);
- `POST /api/v1/agent/join`     QueueAdd to their organization's queue of their level
                                (level 1 → `level1_queue`, level 2 → `level2_queue`);
- `POST /api/v1/agent/pause`    {"reason"}: QueuePause (перерыв) in every queue;
- `POST /api/v1/agent/unpause`  back from the pause;
- `POST /api/v1/agent/leave`    QueueRemove from that queue;
- `POST /api/v1/calls/{id}/transfer` {"to": "level2"}: BlindTransfer of the operator's own
  channel of that call to `hotline-l2,<level2_extension>` of the operator's organization
  (config/asterisk/extensions.conf: `[hotline-l2] exten => 2000,1,Goto(tfoms,1)` →
  Queue(l2-tfoms)). The call keeps its PBX call id, so the card follows it and the level-2
  operator's screen pops the same card.

The state is kept in memory by `LiveFeed` and pushed to the operator's sockets as
`agent_state`: what the PBX reports (its queue-member events, and the QueueStatus member list
at every login, through `hotline.pbx.tracking.agents`), and what the last successful action here left
(the PBX's own event for it agrees). The PBX is the authority; a static queue member
(config/asterisk/queues.conf) cannot be removed by QueueRemove. A refused action answers
502 `pbx_refused` with the PBX's reason.
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog
from aiohttp import web

from hotline.config import Organization as OrgConfig
from hotline.pbx.actions import PbxActionFailed, PbxSwitching
from hotline.pbx.sites import PbxSetActions
from hotline.pbx.tracking.agents import OUT_OF_QUEUE_REASON
from hotline.web.common import actor_of, json_body, path_id
from hotline.web.errors import ApiError
from hotline.web.keys import SESSIONS, SETTINGS
from hotline.keys import LIVE, PBX_ACTIONS
from hotline.live.feed import AgentState
from journal import audit
from journal.calls import get_call_for
from journal.db import unit_of_work
from journal.errors import Forbidden
from journal.models import Organization, User

log = structlog.get_logger(__name__)

L2_CONTEXT = "hotline-l2"
MAX_REASON = 80
TRANSFER_TARGETS = frozenset({"level2"})
ALREADY_MEMBER = "Already there"  # Asterisk's QueueAdd refusal for a member in the queue
NOT_DYNAMIC = "Member not dynamic"  # its QueueRemove refusal for a member of queues.conf
NOT_THERE = "Not there"  # its QueueRemove refusal for a phone in no queue: already out
# A static member cannot leave its queue (it answers calls while this service is down), so
# "leave" pauses it with this reason: the queue stops ringing the phone all the same, and the
# operator is shown out of the queue (hotline.pbx.tracking.agents).
STATIC_LEAVE_REASON = OUT_OF_QUEUE_REASON


@dataclass(frozen=True, slots=True)
class Operator:
    """The signed-in operator with a phone, and their organization's PBX settings."""

    user_id: int
    login: str
    full_name: str
    level: int
    interface: str
    org: OrgConfig

    @property
    def queue(self) -> str:
        return self.org.level2_queue if self.level == 2 else self.org.level1_queue


async def _operator(request: web.Request) -> Operator:
    actor = actor_of(request)
    async with request.app[SESSIONS]() as db:
        user = await db.get(User, actor.user_id)
        org = await db.get(Organization, user.organization_id) if user else None
    if user is None or user.role != "operator" or not user.interface or org is None:
        raise ApiError(403, "not_an_operator",
                       "Действие доступно только оператору с привязанным телефоном")
    if user.level not in (1, 2):
        raise ApiError(403, "not_an_operator", "Очереди есть только у операторов 1 и 2 уровня")
    config = next((o for o in request.app[SETTINGS].organizations if o.code == org.code), None)
    if config is None:
        raise ApiError(409, "no_queues", f"У организации «{org.code}» нет очередей в конфигурации")
    if user.interface.lower() not in {i.lower() for i in config.interfaces}:
        # Pausing or transferring at another organization's phone: refused and audited.
        raise Forbidden(f"Телефон {user.interface} не принадлежит вашей организации",
                        interface=user.interface)
    return Operator(user.id, user.login, user.full_name, user.level, user.interface, config)


def _actions(request: web.Request) -> PbxSetActions:
    actions = request.app.get(PBX_ACTIONS)
    if actions is None:
        raise ApiError(503, "pbx_disabled", "Служба запущена без АТС")
    return actions


async def agent(request: web.Request) -> web.Response:
    """The operator's queue and state (`unknown` until the PBX reported the phone or the
    operator joined or left from here), and the PBX link's state (`connected`, `disconnected`, ... or `disabled`) for the workspace."""
    operator = await _operator(request)
    live = request.app.get(LIVE)
    state = live.agent_state(operator.interface) if live else AgentState(operator.interface)
    body = state.as_json()
    body["queue"] = body["queue"] or operator.queue
    actions = request.app.get(PBX_ACTIONS)
    try:
        pbx = (await actions.link_state(operator.interface) if actions is not None
               else "disabled")
    except PbxSwitching:  # no instance holds the link this moment: a takeover
        pbx = "connecting"
    return web.json_response({"agent": body, "pbx": pbx})


async def _changed(request: web.Request, operator: Operator, state: str, action: str,
                   reason: str = "") -> web.Response:
    new = AgentState(operator.interface, operator.queue, state, reason if state == "paused" else "")
    live = request.app.get(LIVE)
    if live is not None:
        live.set_agent(operator.user_id, new)
    async with unit_of_work(request.app[SESSIONS]) as db:
        await audit.record(db, actor_of(request), action, "user", operator.user_id,
                           {"queue": operator.queue, "interface": operator.interface,
                            "reason": reason or None})
    log.info("agent state changed", user_id=operator.user_id, state=state, queue=operator.queue)
    return web.json_response({"agent": new.as_json()})


async def join(request: web.Request) -> web.Response:
    """Join the queue; a member already there (a static member of queues.conf, or one who
    joined before this service restarted) is simply made ready: joining means "I take calls"."""
    operator = await _operator(request)
    actions = _actions(request)
    try:
        await actions.queue_add(operator.queue, operator.interface, operator.full_name)
    except PbxActionFailed as exc:
        if ALREADY_MEMBER not in exc.detail:
            raise
        await actions.queue_pause(operator.interface, False)
    return await _changed(request, operator, "ready", "agent_join")


async def pause(request: web.Request) -> web.Response:
    body = await json_body(request)
    reason = body.get("reason") or ""
    if not isinstance(reason, str):
        raise ApiError(422, "invalid_input", "«reason»: нужна строка", field="reason")
    reason = " ".join(reason.split())[:MAX_REASON]
    operator = await _operator(request)
    await _actions(request).queue_pause(operator.interface, True, reason)
    return await _changed(request, operator, "paused", "agent_pause", reason)


async def unpause(request: web.Request) -> web.Response:
    operator = await _operator(request)
    await _actions(request).queue_pause(operator.interface, False)
    return await _changed(request, operator, "ready", "agent_unpause")


async def leave(request: web.Request) -> web.Response:
    """Leave the queue; a static member (queues.conf) is paused as «вне очереди» instead; a
    phone already out of the queue is simply out (idempotent)."""
    operator = await _operator(request)
    actions = _actions(request)
    try:
        await actions.queue_remove(operator.queue, operator.interface)
    except PbxActionFailed as exc:
        if NOT_THERE in exc.detail:  # leaving twice (two tabs, a retry) is no error
            return await _changed(request, operator, "out", "agent_leave")
        if NOT_DYNAMIC not in exc.detail:
            raise
        await actions.queue_pause(operator.interface, True, STATIC_LEAVE_REASON)
        return await _changed(request, operator, "out", "agent_leave", STATIC_LEAVE_REASON)
    return await _changed(request, operator, "out", "agent_leave")


async def transfer(request: web.Request) -> web.Response:
    """Send the citizen on this call from the operator to their organization's level 2."""
    call_row_id = path_id(request)
    body = await json_body(request)
    target = body.get("to")
    if not isinstance(target, str) or target not in TRANSFER_TARGETS:
        raise ApiError(422, "invalid_input", "«to»: поддерживается только \"level2\"", field="to")
    operator = await _operator(request)
    actions = _actions(request)
    async with unit_of_work(request.app[SESSIONS]) as db:
        view = await get_call_for(db, actor_of(request), call_row_id)  # NotFound if not theirs
        pbx_call_id = view.call.pbx_call_id
    # By the call's id and the phone: the instance holding the PBX link finds the channel in
    # its tracker (NotOnCall, 409, if the phone has no leg in the call).
    channel = await actions.transfer_call(call_id=pbx_call_id, interface=operator.interface,
                                          context=L2_CONTEXT,
                                          extension=operator.org.level2_extension)
    async with unit_of_work(request.app[SESSIONS]) as db:
        await audit.record(db, actor_of(request), "call_transfer", "call", call_row_id,
                           {"to": "level2", "queue": operator.org.level2_queue,
                            "channel": channel})
    log.info("call transferred to level 2", call_id=pbx_call_id, channel=channel,
             user_id=operator.user_id)
    return web.json_response(
        {"ok": True, "call_id": call_row_id, "to_queue": operator.org.level2_queue}, status=202
    )


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/agent", agent)
    app.router.add_post("/api/v1/agent/join", join)
    app.router.add_post("/api/v1/agent/pause", pause)
    app.router.add_post("/api/v1/agent/unpause", unpause)
    app.router.add_post("/api/v1/agent/leave", leave)
    app.router.add_post("/api/v1/calls/{id}/transfer", transfer)
