"""Call keys across several PBXs (АТС).

Inside one PBX a call is named by its HOTLINE_ID or first linkedid, Asterisk's uniqueids
("1790000000.7"): two PBXs may hand out the same one. The service's call key (the
journal's `calls.pbx_call_id`, the spool's and the live feed's `call_id`, the API's) is
therefore `<pbx>:<id>` for every PBX but the one named "main", whose calls keep the bare id
(the single-`[ami]` form, and every call journaled before several PBXs existed). The tracker
of each PBX makes its keys with its prefix, so a key names its PBX wherever it travels: the
ledger's lines, a transfer's command and a supervisor's HOTLINE_SPY tag find the right link.
"""

from __future__ import annotations

MAIN = "main"
SEPARATOR = ":"


def key_prefix(pbx: str) -> str:
    """What the PBX's call keys start with: nothing for "main", else "<pbx>:"."""
    return "" if pbx == MAIN else f"{pbx}{SEPARATOR}"


def call_key(pbx: str, local_id: str) -> str:
    """The service's key of the PBX's call `local_id` (its HOTLINE_ID or linkedid)."""
    return key_prefix(pbx) + local_id


def pbx_of(key: str) -> str:
    """The PBX a call key belongs to ("main" for a bare Asterisk id)."""
    name, sep, _ = key.partition(SEPARATOR)
    return name if sep else MAIN


def local_id(key: str) -> str:
    """The PBX's own id in a call key (what its AstDB ledger and dialplan know)."""
    return key.partition(SEPARATOR)[2] or key
