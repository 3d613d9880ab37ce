"""What a configuration error may show in Latin letters: the file's own key names and the
values the file's author wrote (quoted), nothing else. For hotline.toml by default; the IVR
scripts' and the calendar's tests pass the names of their own files."""

from __future__ import annotations

import re
import typing
from collections.abc import Iterator

from pydantic import BaseModel

from hotline.config import WEEKDAYS, Settings
from hotline.ivr.schema import SecretaryScript, SurveyScript

_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def settings_models(model: type[BaseModel] = Settings) -> set[type[BaseModel]]:
    """Every table of the file: Settings and the models its fields hold, however nested."""
    found = {model}
    for field in model.model_fields.values():
        for kind in _types(field.annotation):
            if isinstance(kind, type) and issubclass(kind, BaseModel) and kind not in found:
                found |= settings_models(kind)
    return found


def _types(annotation: object) -> Iterator[object]:
    yield annotation
    for arg in typing.get_args(annotation):
        yield from _types(arg)


def key_names() -> set[str]:
    """The names a person may find in `hotline.toml`: its keys, the weekdays of hours, and
    TOML's own spelling of yes and no."""
    keys = {name for model in settings_models() for name in model.model_fields}
    return keys | set(WEEKDAYS) | {"true", "false"}


def script_key_names() -> set[str]:
    """The keys a person may find in `ivr_scripts/*.yaml`."""
    return {name for script in (SecretaryScript, SurveyScript)
            for model in settings_models(script) for name in model.model_fields}


def foreign_words(reason: str, names: set[str] | None = None) -> list[str]:
    """Latin words of a reason that are neither a key of the file (`names`, by default
    hotline.toml's) nor a quoted value."""
    names = key_names() if names is None else names
    return [word for word in _WORD.findall(_QUOTED.sub("", reason)) if word not in names]
