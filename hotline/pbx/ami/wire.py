"""AMI wire framing on bytes.

Asterisk sends a banner line, then messages of `Key: Value\\r\\n` lines closed by an empty
line. panoramisk 1.4 decodes every TCP chunk on its own with errors ignored (a Cyrillic
letter cut between two reads vanishes) and strips each message (an empty last value such as
`Value:` vanishes). This framer buffers bytes, cuts on the blank line, and only then decodes
a whole message as UTF-8, keeping empty values and repeated keys.

Messages come out as the project's own immutable `AmiMessage` (`message.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hotline.pbx.ami.message import AmiMessage, StoredValue

EOM = b"\r\n\r\n"
BANNER_PREFIX = b"Asterisk Call Manager/"
# One AMI message is a few kilobytes at most (an event with many ChanVariables, a Status
# with every field). A bigger one is a broken or hostile peer: skip it, keep the stream.
MAX_MESSAGE_BYTES = 256 * 1024
# Errors kept for the caller to log; a flood of garbage must not grow memory.
MAX_KEPT_ERRORS = 100
_PREVIEW_BYTES = 200


# Why a message was skipped (the `reason` label of the connection's metric).
NOT_UTF8 = "not_utf8"
NO_TYPE = "no_event"  # neither Event nor Response
REPEATED_KEY = "repeated_key"  # Event, Response or ActionID given twice, differently
OVERSIZED = "oversized"
TRUNCATED = "truncated"  # the connection ended in the middle of a message
REJECT_REASONS = (NOT_UTF8, NO_TYPE, REPEATED_KEY, OVERSIZED, TRUNCATED)
# Keys that say what a message is and whose reply it is: two different values are ambiguous
# (a forged UserEvent body, a message cut and glued to the next one).
IDENTITY_KEYS = ("Event", "Response", "ActionID")
IDENTITY_KEYS_FOLDED = {key.lower(): key for key in IDENTITY_KEYS}


class FramingError(ValueError):
    """One message could not be understood; the stream itself goes on."""

    def __init__(self, reason: str, text: str) -> None:
        super().__init__(text)
        self.reason = reason


@dataclass
class FrameStats:
    """Counters since the framer was created (one framer per TCP connection).

    `malformed` counts the messages refused for their content (not UTF-8, no Event or
    Response, conflicting identity keys); `rejected` counts every skipped message by reason.
    """

    messages: int = 0
    malformed: int = 0
    oversized: int = 0
    truncated: int = 0
    rejected: dict[str, int] = field(default_factory=dict)

    def reject(self, reason: str) -> None:
        self.rejected[reason] = self.rejected.get(reason, 0) + 1
        if reason == OVERSIZED:
            self.oversized += 1
        elif reason == TRUNCATED:
            self.truncated += 1
        else:
            self.malformed += 1


def parse_message(raw: bytes) -> AmiMessage:
    """Parse one message body (without the closing blank line) into an AmiMessage.

    Repeated keys (`ChanVariable`, `Variable`, `Output`) become lists.
    Values keep trailing spaces but lose the one space after the colon; an empty value stays
    an empty string. Raises FramingError on a message that is not UTF-8, has no
    `Event`/`Response` header, or gives `Event`, `Response` or `ActionID` two different values.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FramingError(NOT_UTF8, f"not UTF-8 at byte {exc.start}") from None
    # Header names are case-insensitive (Asterisk compares them so, and so does AmiMessage):
    # `EVENT` repeats `Event`, it must not silently replace it. Values by lowercased name,
    # names as first spelt, in wire order: what `AmiMessage.from_wire` takes as it is.
    folded: dict[str, StoredValue] = {}
    names: list[str] = []
    repeated: dict[str, list[str]] = {}
    content_lines: list[str] = []
    for line in text.split("\r\n"):
        if not line:
            continue
        key, sep, value = line.partition(":")
        if not sep or not key or " " in key:
            # `Response: Follows` bodies (command output) carry free text lines.
            content_lines.append(line)
            continue
        if value.startswith(" "):
            value = value[1:]
        lowered = key.lower()
        previous = folded.get(lowered)
        if previous is None:
            folded[lowered] = value
            names.append(key)
        elif lowered in repeated:
            repeated[lowered].append(value)
        else:
            repeated[lowered] = [previous, value] if isinstance(previous, str) else [*previous, value]
    if "event" not in folded and "response" not in folded:
        raise FramingError(NO_TYPE, "neither Event nor Response in message")
    for lowered, values in repeated.items():
        if lowered in IDENTITY_KEYS_FOLDED:
            if len(set(values)) > 1:
                name = IDENTITY_KEYS_FOLDED[lowered]
                raise FramingError(REPEATED_KEY, f"{name} given {len(values)} times, differently")
            continue  # the same value twice: one header
        folded[lowered] = tuple(values)
    return AmiMessage.from_wire(tuple(names), folded, "\n".join(content_lines))


@dataclass
class AmiFramer:
    """Incremental framer: feed bytes as they arrive, get whole messages out.

    `feed()` returns the `AmiMessage`s completed by this chunk and never raises for bad
    input: a malformed or oversized message is counted in `stats`, described in `errors`
    (drained by the caller with `drain_errors()` to log it) and skipped.
    """

    max_message_bytes: int = MAX_MESSAGE_BYTES
    banner: str | None = None
    stats: FrameStats = field(default_factory=FrameStats)
    errors: list[str] = field(default_factory=list)
    _buffer: bytearray = field(default_factory=bytearray)
    _skipping: bool = False
    # Bytes at the start of the buffer already searched for the terminator: a message
    # arriving in many small reads is scanned once, not once per read.
    _scanned: int = 0

    def feed(self, data: bytes) -> list[AmiMessage]:
        """Add one chunk of the stream; return the messages it completed, in order."""
        messages: list[AmiMessage] = []
        for raw in self.split(data):
            message = self.parse(raw)
            if message is not None:
                messages.append(message)
        return messages

    def split(self, data: bytes) -> list[bytes]:
        """Add one chunk of the stream; return the bodies of the messages it completed.

        Only cuts the stream (an oversized message is counted and skipped here): each body
        still goes through `parse()`. A connection under load cuts as bytes arrive and parses
        when the event's turn comes, so that a backlog is held as compact bytes, not as
        thousands of parsed messages.
        """
        self._buffer += data
        bodies: list[bytes] = []
        if self.banner is None and not self._take_banner():
            return bodies
        while True:
            end = self._buffer.find(EOM, max(0, self._scanned - (len(EOM) - 1)))
            if end < 0:
                self._scanned = len(self._buffer)
            else:
                self._scanned = 0
            if self._skipping:
                if end < 0:
                    # Keep only the tail that might hold the start of the terminator.
                    del self._buffer[: max(0, len(self._buffer) - (len(EOM) - 1))]
                    self._scanned = len(self._buffer)
                    return bodies
                del self._buffer[: end + len(EOM)]
                self._skipping = False
                continue
            if end < 0:
                if len(self._buffer) > self.max_message_bytes:
                    self._oversized(bytes(self._buffer[:_PREVIEW_BYTES]))
                    self._skipping = True
                    continue
                return bodies
            if end > self.max_message_bytes:
                self._oversized(bytes(self._buffer[:_PREVIEW_BYTES]))
                del self._buffer[: end + len(EOM)]
                continue
            raw = bytes(self._buffer[:end])
            del self._buffer[: end + len(EOM)]
            # Stray line ends between messages are not messages.
            if raw[:1] in (b"\r", b"\n"):
                raw = raw.lstrip(b"\r\n")
            if raw:
                bodies.append(raw)

    def parse(self, raw: bytes) -> AmiMessage | None:
        """One body from `split()` as an AmiMessage; None (counted, described) if malformed."""
        try:
            message = parse_message(raw)
        except FramingError as exc:
            self.stats.reject(exc.reason)
            self._error(f"{exc}: {raw[:_PREVIEW_BYTES]!r}")
            return None
        self.stats.messages += 1
        return message

    def close(self) -> None:
        """The stream ended: a message begun and never finished is counted as truncated."""
        # The tail of an oversized message being skipped was counted as oversized already.
        if not self._skipping and self._buffer.strip(b"\r\n"):
            self.stats.reject(TRUNCATED)
            self._error(f"stream ended inside a message: {bytes(self._buffer[:_PREVIEW_BYTES])!r}")
        self._buffer.clear()
        self._skipping = False
        self._scanned = 0

    @property
    def buffered(self) -> int:
        """Bytes held while waiting for the end of a message."""
        return len(self._buffer)

    def drain_errors(self) -> list[str]:
        """Descriptions of the messages skipped since the last call."""
        errors, self.errors = self.errors, []
        return errors

    def _oversized(self, preview: bytes) -> None:
        self.stats.reject(OVERSIZED)
        self._error(f"message over {self.max_message_bytes} bytes skipped: {preview!r}")

    def _error(self, text: str) -> None:
        if len(self.errors) < MAX_KEPT_ERRORS:
            self.errors.append(text)

    def _take_banner(self) -> bool:
        newline = self._buffer.find(b"\r\n")
        if newline < 0:
            if len(self._buffer) > self.max_message_bytes:
                self.banner = ""  # no banner will come; frame what follows
                return True
            return False
        line = bytes(self._buffer[:newline])
        if line.startswith(BANNER_PREFIX):
            self.banner = line.decode("utf-8", "replace")
            del self._buffer[: newline + 2]
        else:
            # No banner (a peer that skips it): treat everything as messages.
            self.banner = ""
        return True


def frame_stream(data: bytes) -> list[AmiMessage]:
    """Frame a whole recorded stream at once (tests, transcript replays)."""
    return AmiFramer().feed(data)
