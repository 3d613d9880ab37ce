"""The schema of the electronic secretary's and the survey's scripts (ivr_scripts/*.yaml).

A script is data: Russian prompt texts keyed by prompt id (each id is a recording,
`ivr_scripts/prompts/ru/<id>.wav`, installed in Asterisk's sounds as `hotline/<id>`), and the
menu structure that plays them. Validation is strict (unknown keys are errors) and checks that
every prompt a menu plays is defined. The validators' messages are Russian and start with
the key they are about ("options: ..."): the loader shows them to the person who edits the file.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

PromptId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9/_-]{0,63}$")]
Key = Annotated[str, StringConstraints(pattern=r"^[0-9*#]$")]
# In the greeting: where the generated working-hours phrase goes.
HOURS = "$hours"
# A greeting's part: a prompt id or $hours. One pattern rather than a union with a literal:
# pydantic would name the union's members in the error's key.
GreetingPart = Annotated[str, StringConstraints(pattern=r"^(\$hours|[a-z0-9][a-z0-9/_-]{0,63})$")]

_PROMPT_ID = ("имя подсказки до 64 символов из строчных латинских букв, цифр, «/», «_» и «-», "
              "первый символ — буква или цифра")
# What each pattern above asks for, in words (hotline.config_errors shows these instead of the
# regex; a test checks that every pattern of the scripts' models has its line here).
PATTERN_HINTS = {
    r"^[a-z0-9][a-z0-9/_-]{0,63}$": f"нужно {_PROMPT_ID}",
    r"^[0-9*#]$": "нужна одна клавиша телефона: цифра, «*» или «#»",
    r"^(\$hours|[a-z0-9][a-z0-9/_-]{0,63})$": f"нужно {_PROMPT_ID}, или '$hours'",
}

Action = Literal["info", "message", "repeat", "operator"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Timing(_Strict):
    """How long the secretary waits for a key and how often it asks again."""

    digit_timeout_ms: int = Field(default=5000, ge=1000, le=30000)
    retries: int = Field(default=3, ge=1, le=9)
    # Repeats and returns from the information menu, at most, before saying goodbye.
    max_menu_visits: int = Field(default=10, ge=1, le=50)


class Menu(_Strict):
    """The main menu: its prompts, and which key does what. `operator_hint` is played only
    where the operator option is offered (a line staffed around the clock)."""

    prompts: list[PromptId] = Field(min_length=1)
    operator_hint: PromptId | None = None
    options: dict[Key, Action] = Field(min_length=1)

    @model_validator(mode="after")
    def _options(self) -> Menu:
        actions = list(self.options.values())
        if "message" not in actions:
            raise ValueError("options: в меню должна быть возможность оставить сообщение")
        for action in sorted(set(actions)):
            if actions.count(action) > 1:
                raise ValueError(f"options: действие {action!r} назначено на несколько клавиш")
        return self


class Info(_Strict):
    """Recorded answers to typical questions: a key per answer, `back` to the main menu."""

    prompts: list[PromptId] = Field(min_length=1)
    answers: dict[Key, PromptId] = Field(min_length=1)
    back: Key = "*"

    @model_validator(mode="after")
    def _back(self) -> Info:
        if self.back in self.answers:
            raise ValueError(f"back: клавиша {self.back!r} уже занята одним из ответов (answers)")
        return self


class Message(_Strict):
    """Leaving a message and confirming the callback number."""

    before: list[PromptId] = Field(min_length=1)
    max_seconds: int = Field(default=180, ge=10, le=600)
    silence_seconds: int = Field(default=5, ge=2, le=30)
    end_key: Key = "#"
    number_is: PromptId
    number_confirm: PromptId
    confirm_key: Key = "1"
    other_key: Key = "2"
    number_enter: PromptId
    number_invalid: PromptId
    thanks: list[PromptId] = Field(min_length=1)
    # When operators are on duty right now (a 24/7 line, a queue nobody answered), the
    # callback is due this many minutes later rather than the next working morning.
    callback_within_minutes: int = Field(default=60, ge=5, le=1440)

    @model_validator(mode="after")
    def _keys(self) -> Message:
        if self.confirm_key == self.other_key:
            raise ValueError("other_key: клавиша должна отличаться от confirm_key")
        return self


class Enp(_Strict):
    """Asking the caller for their ЕНП (16 digits, checked by the control digit) after the
    callback number: `#` alone (or silence) skips it; a number that fails its check is said to
    be wrong and asked again, up to the script's retries. The digits stay in the service: no
    channel variable, no log line, no AMI event carries them."""

    ask: PromptId
    invalid: PromptId
    thanks: PromptId | None = None


class Operator(_Strict):
    """Transfer to the line's level-1 queue (offered only on lines staffed around the clock)."""

    prompts: list[PromptId] = Field(min_length=1)


class _Script(_Strict):
    version: Literal[1]
    prompts: dict[PromptId, Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]]
    timing: Timing = Field(default_factory=Timing)
    invalid: list[PromptId] = Field(min_length=1)
    no_input: list[PromptId] = Field(min_length=1)
    goodbye: list[PromptId] = Field(min_length=1)

    def used_prompts(self) -> dict[str, list[str]]:
        """Every prompt id the script plays, by where it is used."""
        return {
            "invalid": self.invalid, "no_input": self.no_input, "goodbye": self.goodbye,
        }

    @model_validator(mode="after")
    def _prompts_defined(self) -> _Script:
        for where, ids in self.used_prompts().items():
            for prompt in ids:
                if prompt != HOURS and prompt not in self.prompts:
                    raise ValueError(f"{where}: подсказки {prompt!r} нет в разделе prompts")
        return self


class SecretaryScript(_Script):
    """The electronic secretary (электронный секретарь) of a line."""

    kind: Literal["secretary"]
    recording_notice: list[PromptId] = Field(min_length=1)
    greeting: list[GreetingPart] = Field(min_length=1)
    menu: Menu
    info: Info
    message: Message
    operator: Operator | None = None
    enp: Enp | None = None

    def used_prompts(self) -> dict[str, list[str]]:
        m = self.message
        used = super().used_prompts() | {
            "recording_notice": self.recording_notice,
            "greeting": self.greeting,
            "menu.prompts": self.menu.prompts,
            "menu.operator_hint": [self.menu.operator_hint] if self.menu.operator_hint else [],
            "info.prompts": self.info.prompts,
            "info.answers": list(self.info.answers.values()),
            "message.before": m.before,
            "message.thanks": m.thanks,
            "message": [m.number_is, m.number_confirm, m.number_enter, m.number_invalid],
        }
        if self.operator is not None:
            used["operator.prompts"] = self.operator.prompts
        if self.enp is not None:
            used["enp"] = [self.enp.ask, self.enp.invalid, *([self.enp.thanks] if self.enp.thanks else [])]
        return used

    @model_validator(mode="after")
    def _structure(self) -> SecretaryScript:
        if HOURS not in self.greeting:
            raise ValueError(f"greeting: в приветствии должны быть часы работы линии ({HOURS!r})")
        if "operator" in self.menu.options.values() and self.operator is None:
            raise ValueError("operator: меню предлагает соединение с оператором, а раздела operator нет")
        return self

    def offers_operator(self) -> bool:
        return "operator" in self.menu.options.values()


class SurveyScript(_Script):
    """The satisfaction survey after an appeal is done: a rating 1..5 on the keypad."""

    kind: Literal["survey"]
    question: list[PromptId] = Field(min_length=1)
    thanks: list[PromptId] = Field(min_length=1)
    lowest: int = Field(default=1, ge=0, le=9)
    highest: int = Field(default=5, ge=1, le=9)

    def used_prompts(self) -> dict[str, list[str]]:
        return super().used_prompts() | {"question": self.question, "thanks": self.thanks}

    @model_validator(mode="after")
    def _scale(self) -> SurveyScript:
        if self.highest <= self.lowest:
            raise ValueError("highest: высшая оценка должна быть больше низшей (lowest)")
        return self

    def keys(self) -> str:
        return "".join(str(n) for n in range(self.lowest, self.highest + 1))
