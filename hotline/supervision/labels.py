"""Supervision's words as the board says them: a listener's mode beside their name, the
buttons with their hints, and what a switch of mode tells the supervisor (who hears them now).

Served in `GET /api/v1/dictionaries` (`labels`) by the composition root.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, NamedTuple


class ModeWords(NamedTuple):
    """Everything the pages say about one mode of listening."""

    title: str  # beside the listener's name on the board
    button: str
    hint: str  # the button's hint: who hears the supervisor
    switched: str  # told after a switch to this mode
    session: str  # a session of listening as the call's card page tells it


MODE_WORDS: Final[Mapping[str, ModeWords]] = {
    "listen": ModeWords(
        "слушает", "Прослушать", "Слушать разговор: вас не слышит никто",
        "Теперь вас не слышит никто", "прослушивание",
    ),
    "whisper": ModeWords(
        "подсказывает", "Подсказать", "Говорить оператору: абонент вас не слышит",
        "Теперь вас слышит только оператор", "подсказка оператору",
    ),
    "barge": ModeWords(
        "вмешивается", "Вмешаться", "Говорить в разговоре: вас слышат оператор и абонент",
        "Теперь вас слышат оператор и абонент", "вмешательство в разговор",
    ),
}
SPY_ENDED_BY: Final[Mapping[str, str]] = {
    "page": "завершено со страницы",
    "phone": "положил(а) трубку",
    "no_answer": "телефон не ответил",
    "call_ended": "разговор закончился",
    "pbx_refused": "АТС отказала",
}


def _by_mode(field: str) -> dict[str, str]:
    return {mode: getattr(words, field) for mode, words in MODE_WORDS.items()}


LABELS: Final[Mapping[str, Mapping[str, str]]] = {
    "spy_modes": _by_mode("title"),
    "spy_buttons": _by_mode("button"),
    "spy_hints": _by_mode("hint"),
    "spy_switched": _by_mode("switched"),
    "spy_sessions": _by_mode("session"),
    "spy_ended_by": SPY_ENDED_BY,
}
