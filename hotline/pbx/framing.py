"""AMI wire framing on bytes.

Asterisk sends a banner line, then messages of `Key: Value\\r\\n` lines closed by an empty
line. panoramisk 1.4 decodes every TCP chunk on its own with errors ignored (a Cyrillic
letter cut between two reads vanishes) and strips each message (an empty last value such as
`Value:` vanishes). This framer buffers bytes, cuts on the blank line, and only then decodes
a whole message as UTF-8, keeping empty values and repeated keys.

Messages come out as panoramisk `Message` objects, so the rest of panoramisk (actions,
responses, event dispatch) keeps working on them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from panoramisk.message import Message

EOM = b"\r\n\r\n"
BANNER_PREFIX = b"Asterisk Call Manager/"
# Asterisk refuses longer input lines; a reply this large is a broken or hostile peer.
MAX_MESSAGE_BYTES = 4 * 1024 * 1024


class FramingError(ValueError):
    """One message could not be understood; the stream itself goes on."""


@dataclass
class FrameStats:
    messages: int = 0
    malformed: int = 0
    oversized: int = 0


def parse_message(raw: bytes) -> Message:
    """Parse one message body (without the closing blank line) into a panoramisk Message.

    Repeated keys (`ChanVariable`, `Variable`) become lists, as panoramisk does. Values keep
    trailing spaces but lose the one space after the colon. Raises FramingError on a message
    that is not UTF-8 or has no `Event`/`Response` header.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FramingError(f"not UTF-8 at byte {exc.start}") from None
    headers: dict[str, str | list[str]] = {}
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
        previous = headers.get(key)
        if previous is None:
            headers[key] = value
        elif isinstance(previous, list):
            previous.append(value)
        else:
            headers[key] = [previous, value]
    if "Event" not in headers and "Response" not in headers:
        raise FramingError("neither Event nor Response in message")
    for must_be_single in ("Event", "Response", "ActionID"):
        if isinstance(headers.get(must_be_single), list):
            # A repeated identity key is ambiguous; the first one is what Asterisk means.
            headers[must_be_single] = headers[must_be_single][0]
    return Message(headers, content="\n".join(content_lines))


@dataclass
class AmiFramer:
    """Incremental framer: feed bytes as they arrive, get whole messages out.

    `feed()` yields `Message` objects and never raises for bad input: a malformed message
    is counted in `stats` and reported through the `on_error` list so the caller can log it.
    """

    banner: str | None = None
    stats: FrameStats = field(default_factory=FrameStats)
    errors: list[str] = field(default_factory=list)
    _buffer: bytearray = field(default_factory=bytearray)
    _skipping: bool = False

    def feed(self, data: bytes) -> Iterator[Message]:
        self._buffer += data
        if self.banner is None and not self._take_banner():
            return
        while True:
            end = self._buffer.find(EOM)
            if self._skipping:
                if end < 0:
                    # Keep only the tail that might hold the start of the terminator.
                    del self._buffer[: max(0, len(self._buffer) - 3)]
                    return
                del self._buffer[: end + len(EOM)]
                self._skipping = False
                continue
            if end < 0:
                if len(self._buffer) > MAX_MESSAGE_BYTES:
                    self.stats.oversized += 1
                    self.errors.append(f"message over {MAX_MESSAGE_BYTES} bytes skipped")
                    self._skipping = True
                    continue
                return
            raw = bytes(self._buffer[:end])
            del self._buffer[: end + len(EOM)]
            if not raw.strip(b"\r\n"):
                continue
            try:
                message = parse_message(raw.lstrip(b"\r\n"))
            except FramingError as exc:
                self.stats.malformed += 1
                self.errors.append(f"{exc}: {raw[:200]!r}")
                continue
            self.stats.messages += 1
            yield message

    def _take_banner(self) -> bool:
        newline = self._buffer.find(b"\r\n")
        if newline < 0:
            return False
        line = bytes(self._buffer[:newline])
        if line.startswith(BANNER_PREFIX):
            self.banner = line.decode("utf-8", "replace")
            del self._buffer[: newline + 2]
        else:
            # No banner (a peer that skips it): treat everything as messages.
            self.banner = ""
        return True

    def drain_errors(self) -> list[str]:
        errors, self.errors = self.errors, []
        return errors
