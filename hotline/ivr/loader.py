"""Loads and validates ivr_scripts/ once at start-up.

`secretary.yaml` is every line's default; `secretary-<line>.yaml` (e.g.
`secretary-88007758565.yaml`) replaces it for that line. `survey.yaml` is the satisfaction
survey. A bad script stops start-up with `ScriptError`, a `ConfigError` naming the file, the
line and the problem, which the CLI prints as one line.
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
from hotline.ivr.schema import SecretaryScript, SurveyScript

DEFAULT_SECRETARY = "secretary.yaml"
SURVEY = "survey.yaml"
_PER_LINE = re.compile(r"^secretary-(\d+)\.yaml$")
M = TypeVar("M", bound=BaseModel)


class ScriptError(ConfigError):
    """An IVR script cannot be used: the message names file, line and problem."""

    def __init__(self, path: Path | str, line: str | None, key: str, reason: str) -> None:
        super().__init__(path, f"line {line}: {key}" if line else key, reason)
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
            raise ScriptError(path, None, "-", "no such line in the configuration "
                              f"(expected secretary-<line number>.yaml, one of {sorted(numbers)})")
        overrides[match.group(1)] = path
    parsed: dict[Path, SecretaryScript] = {}
    scripts, sources = {}, {}
    for line in settings.lines:
        path = overrides.get(line.number, directory / DEFAULT_SECRETARY)
        if path not in parsed:
            parsed[path] = _load(path, SecretaryScript, line.number)
        script = parsed[path]
        if path != directory / DEFAULT_SECRETARY and script.offers_operator() \
                and not line.around_the_clock:
            raise ScriptError(path, line.number, "menu.options",
                              "the operator option needs a line staffed around the clock")
        scripts[line.number], sources[line.number] = script, str(path)
    survey = _load(directory / SURVEY, SurveyScript, None)
    return IvrScripts(secretary=scripts, survey=survey, sources=sources)


def _load(path: Path, model: type[M], line: str | None) -> M:
    raw = _read_yaml(path, line)
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        key = ".".join(str(part) for part in error["loc"]) or "-"
        reason = error["msg"].removeprefix("Value error, ")
        if ": " in reason and re.match(r"^[\w.]+: ", reason):
            # Cross-field checks name their key at the start of the message.
            sub, reason = reason.split(": ", 1)
            key = sub if key == "-" else f"{key}.{sub}"
        raise ScriptError(path, line, key, reason) from None


def _read_yaml(path: Path, line: str | None) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScriptError(path, line, "-", "file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScriptError(path, line, "-", f"cannot read: {exc}") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"yaml line {mark.line + 1}" if mark is not None else "-"
        problem = getattr(exc, "problem", None) or str(exc)
        raise ScriptError(path, line, where, f"not valid YAML: {problem}") from None
    if not isinstance(raw, dict):
        raise ScriptError(path, line, "-", "expected a mapping at the top level")
    return raw
