"""AMI wire messages as the simulator writes them: ordered `Key: Value` pairs.

A message is a list of pairs, not a dict, because Asterisk repeats keys (`ChanVariable`,
`Variable`) and because header order is part of what clients (and our tests) rely on.
"""

from __future__ import annotations

from collections.abc import Iterable

Headers = list[tuple[str, str]]

BANNER = b"Asterisk Call Manager/11.0.0\r\n"


def clean(value: object) -> str:
    """A header value as Asterisk would put it on one line: no CR/LF inside."""
    return str(value).replace("\r", " ").replace("\n", " ")


def c_escape(text: str) -> str:
    """Escape like Asterisk's `ast_escape_c` for caller names: quotes, backslashes, controls."""
    out = []
    for char in text:
        if char in "\\\"'":
            out.append("\\" + char)
        elif char == "\n":
            out.append("\\n")
        elif char == "\r":
            out.append("\\r")
        elif char == "\t":
            out.append("\\t")
        else:
            out.append(char)
    return "".join(out)


def encode(headers: Iterable[tuple[str, str]]) -> bytes:
    """One message: `Key: Value\\r\\n` lines and the closing empty line, UTF-8."""
    text = "".join(f"{key}: {clean(value)}\r\n" for key, value in headers)
    return (text + "\r\n").encode("utf-8")


def response(
    status: str, action_id: str | None, message: str | None = None, *extra: tuple[str, str]
) -> Headers:
    """`Response`, `ActionID` (only if the client sent one), `Message`, then extra keys."""
    headers: Headers = [("Response", status)]
    if action_id is not None:
        headers.append(("ActionID", action_id))
    if message is not None:
        headers.append(("Message", message))
    headers.extend(extra)
    return headers


def list_ack(action_id: str | None, message: str) -> Headers:
    """The first reply of a list action (`EventList: start`)."""
    headers: Headers = [("Response", "Success")]
    if action_id is not None:
        headers.append(("ActionID", action_id))
    headers += [("EventList", "start"), ("Message", message)]
    return headers


def list_complete(
    event: str, action_id: str | None, items: int, *extra: tuple[str, str]
) -> Headers:
    """The closing event of a list action."""
    headers: Headers = [("Event", event)]
    if action_id is not None:
        headers.append(("ActionID", action_id))
    headers += [("EventList", "Complete"), ("ListItems", str(items)), *extra]
    return headers


def action_id_tail(action_id: str | None) -> Headers:
    """`ActionID` as the last header (Status, DBGetResponse, QueueParams, QueueMember...)."""
    return [] if action_id is None else [("ActionID", action_id)]
