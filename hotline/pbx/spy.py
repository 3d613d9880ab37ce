"""Supervision legs (контроль разговоров): the names the dialplan, the tracker and the service share.

A supervisor listens to a live call through ChanSpy: the service Originates the supervisor's
own phone into `SPY_CONTEXT`, extension = the mode, with two channel variables:
`HOTLINE_SPY` (the call's key, exported by manager.conf `channelvars`, so every event of the
leg says it is a listening leg of that call) and `HOTLINE_SPY_TARGET` (the operator's channel,
the only thing ChanSpy is given). The mode is also visible on the wire: ChanSpyStart's
`SpyerExten` is the extension the leg runs, and switching mode is a Redirect of the leg to
another extension of the same context (a ChanSpyStop, then a ChanSpyStart in the new mode).
"""

from __future__ import annotations

import re
from typing import Literal, TypeAlias

SpyMode: TypeAlias = Literal["listen", "whisper", "barge"]
"""`listen` (прослушать): the supervisor hears both sides, nobody hears them;
`whisper` (подсказать): only the operator hears the supervisor;
`barge` (вмешаться): the operator and the citizen both hear the supervisor."""

SPY_CONTEXT = "hotline-spy"
SPY_VARIABLE = "HOTLINE_SPY"
SPY_TARGET_VARIABLE = "HOTLINE_SPY_TARGET"
# ChanSpy's options per mode (Asterisk 22 apps/app_chanspy.c): q no beep and no name played,
# E exit when the spied-on channel hangs up, S exit when nothing is left to spy on, w whisper
# to the spied-on channel, B barge: whisper to both channels of its bridge.
SPY_MODES: dict[SpyMode, str] = {"listen": "qES", "whisper": "qwES", "barge": "qBES"}

# A channel Asterisk named for a PJSIP device: `PJSIP/op101-0000000e`. Nothing else is passed
# to ChanSpy (no comma, no `$`, no `(`: a value cannot become dialplan syntax).
_CHANNEL = re.compile(r"^PJSIP/[A-Za-z][A-Za-z0-9_-]{0,39}-[0-9a-f]{8}$")


def is_mode(value: object) -> bool:
    return isinstance(value, str) and value in SPY_MODES


def safe_channel(name: str | None) -> str | None:
    """The channel name when it is a plain PJSIP channel name, else None."""
    return name if name and _CHANNEL.match(name) else None
