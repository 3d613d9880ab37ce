"""The PBX's codes as people read them: where a live call is, an operator's place in the
queues, their phone as Asterisk reports it, the service's link to the PBX, an 8-800 line.

The pages take them from `GET /api/v1/dictionaries` (`labels`), where the composition root
puts them beside the journal's (`journal.labels`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from hotline.pbx.events import AgentStateName, CallState, DeviceName

CALL_STATE_TITLES: Final[Mapping[CallState, str]] = {
    "ivr": "приветствие / секретарь",
    "dialing": "набор номера",
    "queued": "ждёт ответа",
    "ringing": "звонит оператору",
    "talking": "разговор",
    "ended": "завершён",
}
# An operator's state as a list of operators reads it («перерыв: обед»); `unknown`: the PBX has
# not reported the phone yet (and nobody joined or left from the page).
AGENT_STATE_TITLES: Final[Mapping[AgentStateName | str, str]] = {
    "ready": "готов",
    "paused": "перерыв",
    "out": "не в очереди",
    "unavailable": "телефон недоступен",
    "unknown": "нет данных",
}
# The same state as the operator's own bar says it to them («Перерыв: обед»).
AGENT_BADGE_TITLES: Final[Mapping[AgentStateName | str, str]] = {
    "ready": "Готов принимать звонки",
    "paused": "Перерыв",
    "out": "Не в очереди",
    "unavailable": "Телефон недоступен",
    "unknown": "Состояние неизвестно",
}
DEVICE_TITLES: Final[Mapping[DeviceName, str]] = {
    "free": "свободен",
    "in_use": "разговаривает",
    "busy": "занят",
    "ringing": "звонит",
    "ringing_in_use": "звонит, идёт разговор",
    "on_hold": "на удержании",
    "unavailable": "недоступен",
    "invalid": "недоступен",
    "unknown": "состояние неизвестно",
}
# The AMI link's states; `disabled`: the service runs without a PBX; `unknown`: the page could
# not ask the service.
LINK_TITLES: Final[Mapping[str, str]] = {
    "connected": "на связи",
    "connecting": "подключение…",
    "disconnected": "нет связи",
    "disabled": "не подключена к службе",
    "unknown": "состояние неизвестно",
}



def line_title(number: str) -> str:
    """"88007758565" -> "8-800-775-85-65", as the lines are printed for people."""
    if len(number) == 11 and number.startswith("8800"):
        return f"8-800-{number[4:7]}-{number[7:9]}-{number[9:]}"
    return number


# Each group is keyed by its own literal type (a mapping is invariant in its key type).
LABELS: Final[Mapping[str, Mapping[Any, str]]] = {
    "call_states": CALL_STATE_TITLES,
    "agent_states": AGENT_STATE_TITLES,
    "agent_badges": AGENT_BADGE_TITLES,
    "devices": DEVICE_TITLES,
    "pbx_links": LINK_TITLES,
}
