"""What a configuration error may show in Latin letters: the file's own key names and the
values the file's author wrote (quoted), nothing else."""

from __future__ import annotations

import re
import typing
from collections.abc import Iterator

from pydantic import BaseModel

from hotline.config import WEEKDAYS, Settings

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


def foreign_words(reason: str) -> list[str]:
    """Latin words of a reason that are neither a key of the file nor a quoted value."""
    names = key_names()
    return [word for word in _WORD.findall(_QUOTED.sub("", reason)) if word not in names]
