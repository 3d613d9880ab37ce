"""Who sees which part of the live board: the administrator all of it, an organization's
supervisor only their own organization's.

The board message (`LiveFeed.board()`) is built once for the whole contact center; before it
goes to a supervisor's socket it is cut down here to what that supervisor may see: the calls
of their organization (a call's `organization` is the line's), its lines, its operators (the
phones `hotline.toml` gives the organization) and, on those calls, the listeners. Whatever
the message carries beyond what this module knows (figures, alerts added later) is left out
for a supervisor until it is scoped here too: unknown means not shown.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hotline.live.hub import Message, Subscriber

# The board's own keys, the same for everyone.
_COMMON = ("type", "at", "roster_complete", "pbx", "pbxs")


def sees_board(subscriber: Subscriber) -> bool:
    """The administrator, and an organization's supervisor (its own organization's part)."""
    return subscriber.is_admin or (
        subscriber.role == "supervisor" and subscriber.organization_code is not None)


def board_for(
    board: Message, subscriber: Subscriber, phone_org: Callable[[str], str | None]
) -> Message | None:
    """The board as `subscriber` may see it; None when they may see none of it.

    `phone_org` names the organization of a phone ("PJSIP/op101" → "tfoms")."""
    if subscriber.is_admin:
        return board
    if not sees_board(subscriber):
        return None
    own = subscriber.organization_code

    def ours(interface: str | None) -> bool:
        return bool(interface) and phone_org(interface or "") == own

    calls = []
    for call in board.get("calls", []):
        if call.get("organization") != own:
            continue
        call = dict(call)
        if call.get("current_operator") and not ours(call["current_operator"]):
            call["current_operator"] = None  # an operator of another organization took it
        call["listeners"] = [_listener(x, ours(x.get("interface")))
                             for x in call.get("listeners", [])]
        calls.append(call)
    scoped: dict[str, Any] = {key: board[key] for key in _COMMON if key in board}
    scoped.update(
        calls=calls,
        waiting=sum(1 for c in calls if c.get("state") == "queued"),
        talking=sum(1 for c in calls if c.get("state") == "talking"),
        lines=[x for x in board.get("lines", []) if x.get("organization") == own],
        agents=[a for a in board.get("agents", []) if ours(a.get("interface"))],
    )
    return scoped


def _listener(listener: dict[str, Any], own_phone: bool) -> dict[str, Any]:
    """A listener on the supervisor's phone is theirs to see; another's phone (the contact
    center's administrator) is not named."""
    return dict(listener) if own_phone else {**listener, "interface": None}
