"""Supervision's words as the board says them: a listener's mode beside their name, the
buttons with their hints, and what a switch of mode tells the supervisor (who hears them now).

Served in `GET /api/v1/dictionaries` (`labels`) by the composition root.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

SPY_MODE_TITLES: Final[Mapping[str, str]] = {
    "listen": "слушает",
    "whisper": "подсказывает",
    "barge": "вмешивается",
}
SPY_BUTTON_TITLES: Final[Mapping[str, str]] = {
    "listen": "Прослушать",
    "whisper": "Подсказать",
    "barge": "Вмешаться",
}
SPY_BUTTON_HINTS: Final[Mapping[str, str]] = {
    "listen": "Слушать разговор: вас не слышит никто",
    "whisper": "Говорить оператору: абонент вас не слышит",
    "barge": "Говорить в разговоре: вас слышат оператор и абонент",
}
SPY_SWITCHED: Final[Mapping[str, str]] = {
    "listen": "Теперь вас не слышит никто",
    "whisper": "Теперь вас слышит только оператор",
    "barge": "Теперь вас слышат оператор и абонент",
}
# A session of listening as the call's card page tells it.
SPY_SESSION_TITLES: Final[Mapping[str, str]] = {
    "listen": "прослушивание",
    "whisper": "подсказка оператору",
    "barge": "вмешательство в разговор",
}
SPY_ENDED_BY: Final[Mapping[str, str]] = {
    "page": "завершено со страницы",
    "phone": "положил(а) трубку",
    "no_answer": "телефон не ответил",
    "call_ended": "разговор закончился",
    "pbx_refused": "АТС отказала",
}
LABELS: Final[Mapping[str, Mapping[str, str]]] = {
    "spy_modes": SPY_MODE_TITLES,
    "spy_buttons": SPY_BUTTON_TITLES,
    "spy_hints": SPY_BUTTON_HINTS,
    "spy_switched": SPY_SWITCHED,
    "spy_sessions": SPY_SESSION_TITLES,
    "spy_ended_by": SPY_ENDED_BY,
}
