"""A caller's own caller ID, cleaned at the PBX edge (the citizen's phone or carrier sets it).

CallerIDNum and CallerIDName are whatever the calling side sent: a number longer than the
journal's column (32), a name longer than 200, a NUL or other control characters that
PostgreSQL refuses. None of that may cost the call its card, so the tracker keeps only clean,
clipped text for every consumer (journal, screen-pop, board) and, when cleaning changed
anything, the caller ID as sent (control characters shown as U+FFFD, at most
`ORIGINAL_MAX` characters) goes with the arrival into the call's timeline.
"""

from __future__ import annotations

import unicodedata

NUMBER_MAX = 32  # journal.models.Call.caller_number
NAME_MAX = 200  # journal.models.Call.caller_name
ORIGINAL_MAX = 1000
_REPLACEMENT = "\ufffd"


def _printable(text: str) -> str:
    """Control, format-less unassigned and surrogate code points out, whitespace single."""
    if text.isprintable():
        # Nothing to take out (printable text holds no Cc, Cs or Cn, and no whitespace but
        # the space): the common case, for every caller-ID header of every AMI event, in C.
        return " ".join(text.split())
    kept = (" " if ch.isspace() else ch for ch in text
            if ch.isspace() or unicodedata.category(ch) not in ("Cc", "Cs", "Cn"))
    return " ".join("".join(kept).split())


def clean_number(raw: str | None) -> str | None:
    """The number as the journal stores it: printable, at most NUMBER_MAX characters."""
    text = _printable(raw or "")[:NUMBER_MAX].strip()
    return text or None


def clean_name(raw: str | None) -> str | None:
    """The name as the journal stores it: printable, at most NAME_MAX characters."""
    text = _printable(raw or "")[:NAME_MAX].strip()
    return text or None


def original(raw_number: str | None, raw_name: str | None) -> dict[str, str] | None:
    """The caller ID as sent, when cleaning changed it (kept in the call's timeline)."""
    kept: dict[str, str] = {}
    for key, raw, clean in (("number", raw_number, clean_number(raw_number)),
                            ("name", raw_name, clean_name(raw_name))):
        if raw is not None and raw.strip() != (clean or ""):
            kept[key] = "".join(
                _REPLACEMENT if unicodedata.category(ch) in ("Cc", "Cs") else ch
                for ch in raw[:ORIGINAL_MAX]
            )
    return kept or None
