"""Loads and validates ivr_scripts/ once at start-up.

`secretary.yaml` is every line's default; `secretary-<line>.yaml` (e.g.
`secretary-88007758565.yaml`) replaces it for that line. `survey.yaml` is the satisfaction
survey. A bad script stops start-up with `ScriptError`, a `ConfigError` naming the file, the
key and (for a line's own script) the line, with a Russian reason, which the CLI prints as one
line. Pydantic's errors are worded by `hotline.config_errors`, as hotline.toml's are.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from hotline.config import ConfigError, Settings
from hotline.config_errors import YAML_WORDS, FileFormat, error_key, pydantic_reason, yaml_reason
from hotline.ivr.schema import PATTERN_HINTS, SecretaryScript, SurveyScript
from journal.os_errors import os_reason

DEFAULT_SECRETARY = "secretary.yaml"
SURVEY = "survey.yaml"
_PER_LINE = re.compile(r"^secretary-(\d+)\.yaml$")
M = TypeVar("M", bound=BaseModel)
SCRIPT_FORMAT = FileFormat(PATTERN_HINTS, YAML_WORDS)
# A model validator's message that names its key first: "options: в меню должна быть ...".
_KEYED = re.compile(r"^(?P<key>[a-z_][a-z0-9_.]*): (?P<reason>.+)$", re.DOTALL)


class ScriptError(ConfigError):
    """An IVR script cannot be used: the message names file, line and problem."""

    subject = "сценарий"

    def __init__(self, path: Path | str, line: str | None, key: str, reason: str) -> None:
        super().__init__(path, f"линия {line}: {key}" if line else key, reason)
        self.line = line


@dataclass(frozen=True, slots=True)
class IvrScripts:
    """Every line's secretary script (by line number) and the survey."""

    secretary: Mapping[str, SecretaryScript]
    survey: SurveyScript
    sources: Mapping[str, str]  # line number → the file its script came from

    def secretary_for(self, line: str) -> SecretaryScript:
        return self.secretary[line]


def load_scripts(directory: Path | str, settings: Settings) -> IvrScripts:
    """Read, validate and check every script against the configured lines."""
    directory = Path(directory)
    numbers = {line.number for line in settings.lines}
    overrides = {}
    for path in sorted(directory.glob("secretary-*.yaml")):
        match = _PER_LINE.match(path.name)
        if match is None or match.group(1) not in numbers:
            raise ScriptError(path, None, "-", "такой линии нет в конфигурации: файл "
                              "называют secretary-<номер линии>.yaml, номера линий: "
                              + ", ".join(sorted(numbers)))
        overrides[match.group(1)] = path
    parsed: dict[Path, SecretaryScript] = {}
    scripts, sources = {}, {}
    for line in settings.lines:
        path = overrides.get(line.number, directory / DEFAULT_SECRETARY)
        if path not in parsed:
            # The default script is every line's: its mistakes are no one line's.
            own = path != directory / DEFAULT_SECRETARY
            parsed[path] = _load(path, SecretaryScript, line.number if own else None)
        script = parsed[path]
        if path != directory / DEFAULT_SECRETARY and script.offers_operator() \
                and not line.around_the_clock:
            raise ScriptError(path, line.number, "menu.options",
                              "соединение с оператором можно предлагать только на линии, "
                              "где операторы работают круглосуточно")
        scripts[line.number], sources[line.number] = script, str(path)
    survey = _load(directory / SURVEY, SurveyScript, None)
    return IvrScripts(secretary=scripts, survey=survey, sources=sources)


def _load(path: Path, model: type[M], line: str | None) -> M:
    raw = _read_yaml(path, line)
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        key, reason = error_key(error), pydantic_reason(error, SCRIPT_FORMAT)
        keyed = _KEYED.match(reason) if error["type"] == "value_error" else None
        if keyed:
            # Cross-field checks name their key at the start of the message.
            key = keyed["key"] if key == "-" else f"{key}.{keyed['key']}"
            reason = keyed["reason"]
        raise ScriptError(path, line, key, reason) from None


def _read_yaml(path: Path, line: str | None) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScriptError(path, line, "-", "файл не найден") from None
    except OSError as exc:
        raise ScriptError(path, line, "-", f"не удаётся прочитать файл: {os_reason(exc)}") from None
    except UnicodeDecodeError:
        raise ScriptError(path, line, "-", "файл сохранён не в кодировке UTF-8") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ScriptError(path, line, "-", yaml_reason(exc)) from None
    if not isinstance(raw, dict):
        raise ScriptError(path, line, "-", "файл должен состоять из ключей со значениями "
                          "(ключ: значение), а не из одного значения или списка")
    return raw

