"""One AMI message (an event or a reply), as the framer read it: immutable, headers in order.

An AMI message is `Key: Value` lines. Asterisk compares header names without regard to case
(and its own spelling varies: `Uniqueid`, `UniqueID`), so lookups here ignore case too. A key
may repeat: `ChanVariable: NAME=value` once per exported channel variable, `Variable:` in a
`Status` reply, `Output:` in a command's: such a header reads as the list of its values, in
wire order. A `Response: Follows` reply also carries free text lines, kept as `content`.

The mapping view is the one panoramisk's `Message` gives, which the tracker, the roster and
the tests were written against: `message["Uniqueid"]`, `message.get("Queue")`, a repeated
header as a list, `.success`, and `content` listed last among the items (a header of that
name, which no Asterisk event has, wins over the body in lookups; the body stays in
`.content`). Unlike panoramisk's, a missing header is missing (`KeyError`, `None` from `get`),
never an empty string, and nothing can be changed once the message is built.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Final, NoReturn, TypeAlias, TypeVar, final, overload

HeaderValue: TypeAlias = str | list[str]
"""A header's value: text, or the list of the values of a repeated header."""
StoredValue: TypeAlias = str | tuple[str, ...]
"""A header's value as stored (and in `folded`): a repeated header is a tuple."""

CONTENT = "content"
# The replies whose `Response` means the action was accepted (panoramisk counts the same).
SUCCESS_RESPONSES: Final = frozenset({"Success", "Follows", "Goodbye"})
_ABSENT: Final[Any] = object()
_T = TypeVar("_T")


@final
class AmiMessage(Mapping[str, HeaderValue]):
    """An AMI event or reply: read-only, case-insensitive, headers in wire order.

    Build one from the headers, a mapping or `(name, value)` pairs, each value a string or a
    list of strings (a repeated header), and the free-text body: `AmiMessage({"Event":
    "Hangup", "Uniqueid": "1.1"})`. Two names differing only in case are one header: the
    later value replaces the earlier one, in the earlier one's place, as panoramisk does (the
    framer never passes such pairs: it turns a repetition into a list itself).
    """

    __slots__ = ("_folded", "_keys", "content")

    _folded: dict[str, StoredValue]
    _keys: tuple[str, ...]
    content: str

    def __init__(
        self,
        headers: Mapping[str, HeaderValue] | Iterable[tuple[str, HeaderValue]] = (),
        content: str = "",
    ) -> None:
        if not isinstance(headers, Mapping):
            headers = dict(headers)
        folded = {
            key.lower(): tuple(value) if isinstance(value, list) else value
            for key, value in headers.items()
        }
        if len(folded) == len(headers):
            keys = tuple(headers)
        else:
            # A name given twice in different cases: one header, the later spelling.
            keys = tuple({key.lower(): key for key in headers}.values())
        if CONTENT not in folded:
            keys += (CONTENT,)
        object.__setattr__(self, "_folded", folded)
        object.__setattr__(self, "_keys", keys)
        object.__setattr__(self, "content", content)

    @classmethod
    def from_wire(cls, names: tuple[str, ...], folded: dict[str, StoredValue], content: str) -> AmiMessage:
        """The framer's constructor (one per event, so every step counts): `names` the header
        names in wire order as first spelt, each once whatever its case; `folded` their values
        by lowercased name, a repeated header as a tuple. The message takes `folded` over: the
        caller keeps no reference to it."""
        message = object.__new__(cls)
        object.__setattr__(message, "_folded", folded)
        object.__setattr__(message, "_keys", names if CONTENT in folded else (*names, CONTENT))
        object.__setattr__(message, "content", content)
        return message

    # -- the mapping ------------------------------------------------------------------------

    def __getitem__(self, key: str) -> HeaderValue:
        folded = key.lower()
        value = self._folded.get(folded, _ABSENT)
        if value is _ABSENT:
            if folded == CONTENT:
                return self.content
            raise KeyError(key)
        return list(value) if isinstance(value, tuple) else value

    @overload
    def get(self, key: str, /) -> HeaderValue | None: ...
    @overload
    def get(self, key: str, /, default: HeaderValue | _T) -> HeaderValue | _T: ...

    def get(self, key: str, /, default: object = None) -> object:
        """The header's value (a list if repeated), or `default` when it is absent."""
        folded = key.lower()
        value = self._folded.get(folded, _ABSENT)
        if value is _ABSENT:
            return self.content if folded == CONTENT else default
        return list(value) if isinstance(value, tuple) else value

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        folded = key.lower()
        return folded in self._folded or folded == CONTENT

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    # -- what a message says ----------------------------------------------------------------

    def getall(self, key: str) -> tuple[str, ...]:
        """Every value of a header, in wire order: `()` when absent, one or many values
        (`ChanVariable`, `Variable`, `Output`)."""
        value = self._folded.get(key.lower(), ())
        return (value,) if isinstance(value, str) else value

    def header_items(self) -> list[tuple[str, HeaderValue]]:
        """The headers as `(name, value)` pairs in wire order, without the body: what builds
        this message again, or a changed copy (`AmiMessage([*m.header_items(), ...])`)."""
        return [(key, self[key]) for key in self._keys if key.lower() in self._folded]

    @property
    def folded(self) -> Mapping[str, StoredValue]:
        """The headers keyed by lowercased name (a repeated header: a tuple), for the pure
        cores that read many headers of every event (the call tracker). It is the message's
        own table, typed read-only and never to be changed: no copy, no proxy, so that a
        lookup costs what a dict's does."""
        return self._folded

    @property
    def event(self) -> str | None:
        """The event's name (`Hangup`, `Newexten`...); None for a reply."""
        value = self._folded.get("event")
        return value if isinstance(value, str) else None

    @property
    def action_id(self) -> str | None:
        """The `ActionID` of a reply, or of an event that is part of one (a list action)."""
        value = self._folded.get("actionid")
        return value if isinstance(value, str) else None

    @property
    def success(self) -> bool:
        """An event, or a reply that accepted the action (`Success`, `Follows`, `Goodbye`).
        `Response: Error` is False: read `Message` for why."""
        if "event" in self._folded:
            return True
        return self._folded.get("response") in SUCCESS_RESPONSES

    # -- immutability -----------------------------------------------------------------------

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError(f"AmiMessage is immutable: cannot set {name!r}")

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError(f"AmiMessage is immutable: cannot delete {name!r}")

    def __reduce__(self) -> tuple[type[AmiMessage], tuple[list[tuple[str, HeaderValue]], str]]:
        return (AmiMessage, (self.header_items(), self.content))

    def __repr__(self) -> str:
        shown = " ".join(f"{key}={self[key]!r}" for key in self._keys)
        return f"<AmiMessage {shown}>"
