"""The byte framer against the real Asterisk 22 transcripts, cut at every kind of place."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.pbx.ami.wire import AmiFramer, frame_stream, parse_message
from tests.support.ami_peer import load_transcript, transcript_names

NAME = "Иванов Иван Петрович"


def stream_of(name: str) -> bytes:
    return "".join(load_transcript(name)).encode("utf-8")


def as_dicts(messages: list) -> list[dict]:
    return [dict(m.items()) for m in messages]


def feed_in_cuts(data: bytes, sizes: list[int]) -> tuple[list, AmiFramer]:
    framer = AmiFramer()
    out = []
    position = 0
    for size in sizes:
        out += framer.feed(data[position : position + size])
        position += size
    out += framer.feed(data[position:])
    return out, framer


def random_sizes(rng: random.Random, total: int, max_cut: int) -> list[int]:
    sizes, covered = [], 0
    while covered < total:
        size = rng.randint(1, max_cut)
        sizes.append(size)
        covered += size
    return sizes


@pytest.mark.parametrize("name", transcript_names())
def test_random_cuts_give_the_same_messages_as_the_whole_stream(name: str) -> None:
    """Cutting a real session anywhere (1..7 byte reads included) changes nothing: same
    messages, same values, the Cyrillic caller name intact."""
    data = stream_of(name)
    whole = as_dicts(frame_stream(data))
    assert whole, "the transcript frames into messages"
    for seed in range(32):
        rng = random.Random(seed)
        max_cut = (7, 3, 64, 1500)[seed % 4]
        messages, framer = feed_in_cuts(data, random_sizes(rng, len(data), max_cut))
        assert as_dicts(messages) == whole, f"seed {seed}, cuts up to {max_cut}"
        assert framer.stats.malformed == framer.stats.oversized == 0
        assert framer.buffered == 0
    if NAME.encode() in data:
        assert any(m.get("CallerIDName") == NAME for m in whole)


def test_byte_at_a_time_keeps_every_cyrillic_letter() -> None:
    """The worst cut: every read one byte, so every 2-byte letter is split (panoramisk P1)."""
    data = stream_of("resync_snapshot")
    messages, _ = feed_in_cuts(data, [1] * len(data))
    names = {m.get("CallerIDName") for m in messages} | {m.get("Name") for m in messages}
    assert NAME in names
    assert "Сидорова В.В." in names
    assert as_dicts(messages) == as_dicts(frame_stream(data))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=65530), max_size=40))
def test_any_cut_points(cuts: list[int]) -> None:
    """Hypothesis picks the cut points in the resync snapshot: the result never changes."""
    data = stream_of("resync_snapshot")
    points = sorted({min(c, len(data)) for c in cuts})
    framer = AmiFramer()
    out = []
    previous = 0
    for point in [*points, len(data)]:
        out += framer.feed(data[previous:point])
        previous = point
    assert as_dicts(out) == as_dicts(frame_stream(data))


def test_empty_last_value_is_kept() -> None:
    """`Value:` closing a VarSet, and an empty value mid-message, stay as '' (panoramisk P2)."""
    raw = (
        b"Event: VarSet\r\nChannel: PJSIP/trunk-00000013\r\nAccountCode: \r\n"
        b"Variable: HOTLINE_NOPE\r\nValue: \r\n\r\n"
    )
    (message,) = AmiFramer(banner="").feed(raw)
    assert message["Value"] == ""
    assert "Value" in message
    assert message["AccountCode"] == ""


def test_empty_values_in_real_varsets() -> None:
    """In the recorded stream, some VarSet ends with an empty `Value:` and it is present."""
    messages = frame_stream(stream_of("operator_answered"))
    varsets = [m for m in messages if m.get("Event") == "VarSet"]
    assert varsets and all("Value" in m for m in varsets)
    assert any(m["Value"] == "" for m in varsets)


def test_repeated_keys_become_lists_and_identity_keys_stay_single() -> None:
    """`Variable:` repeated is a list; an ActionID repeated with the same value is one."""
    raw = (
        b"Event: Status\r\nVariable: HOTLINE_ID=42\r\nVariable: HOTLINE_LINE=88007758565\r\n"
        b"ActionID: a-1\r\nActionID: a-1\r\n\r\n"
    )
    message = parse_message(raw[:-4])
    assert message["Variable"] == ["HOTLINE_ID=42", "HOTLINE_LINE=88007758565"]
    assert message["ActionID"] == "a-1"


@pytest.mark.parametrize("key, again, values", [
    ("Event", "Event", ("UserEvent", "Hangup")),
    ("Event", "EVENT", ("UserEvent", "Hangup")),
    ("ActionID", "actionid", ("a-1", "a-2")),
    ("Response", "Response", ("Success", "Error")),
])
def test_conflicting_identity_keys_are_counted_and_skipped(
    key: str, again: str, values: tuple[str, str]
) -> None:
    """A message that says twice, differently, what it is or whose reply it is (a forged
    UserEvent body, two messages glued by a lost blank line) is ambiguous, however the key
    is spelt the second time: counted under `repeated_key` and skipped; the next message
    comes through."""
    first, second = values
    base = "Event: Newstate\r\n" if key != "Event" else ""
    raw = f"{base}{key}: {first}\r\nUniqueid: 1.1\r\n{again}: {second}\r\n\r\n"
    framer = AmiFramer(banner="")
    out = framer.feed(raw.encode() + b"Event: Hangup\r\nUniqueid: 1.2\r\n\r\n")
    assert [m["Uniqueid"] for m in out] == ["1.2"]
    assert framer.stats.rejected == {"repeated_key": 1} and framer.stats.malformed == 1
    assert "differently" in framer.drain_errors()[0]


def test_keys_differing_in_case_are_one_key() -> None:
    """`uniqueid` after `Uniqueid` is a repetition (a list under the first spelling), never
    a silent replacement of the first value."""
    (message,) = AmiFramer(banner="").feed(
        b"Event: Newchannel\r\nUniqueid: 1.1\r\nuniqueid: 2.2\r\nchanvariable: A=1\r\n"
        b"ChanVariable: B=2\r\n\r\n")
    assert message["Uniqueid"] == ["1.1", "2.2"]
    assert message["ChanVariable"] == ["A=1", "B=2"]
    assert list(message.keys())[:2] == ["Event", "Uniqueid"]


def test_a_stream_ending_inside_a_message_counts_it_as_truncated() -> None:
    """The PBX's socket closes after half a message: nothing half-read is delivered, and the
    loss is counted (a trailing blank line alone is no message)."""
    framer = AmiFramer(banner="")
    assert framer.feed(b"Event: Hangup\r\nUniqueid: 1.1\r\n\r\nEvent: Newchannel\r\nUniq") != []
    framer.close()
    assert framer.stats.rejected == {"truncated": 1} and framer.buffered == 0
    assert "ended inside a message" in framer.drain_errors()[0]
    clean = AmiFramer(banner="")
    clean.feed(b"Event: Hangup\r\nUniqueid: 1.1\r\n\r\n\r\n")
    clean.close()
    assert clean.stats.rejected == {}


def test_banner_is_read_and_not_a_message() -> None:
    """The banner, even cut in two, is remembered and not taken for a message."""
    framer = AmiFramer()
    assert framer.feed(b"Asterisk Call Man") == []
    out = framer.feed(b"ager/11.0.0\r\nResponse: Success\r\nActionID: 1\r\n\r\n")
    assert framer.banner == "Asterisk Call Manager/11.0.0"
    assert [m["Response"] for m in out] == ["Success"]


def test_peer_without_banner_is_framed() -> None:
    """A peer that sends no banner is framed from its first byte."""
    framer = AmiFramer()
    out = framer.feed(b"Event: FullyBooted\r\nUptime: 3\r\n\r\n")
    assert framer.banner == ""
    assert out[0]["Uptime"] == "3"


def test_command_output_lines_are_content() -> None:
    """Free text lines of a `Response: Follows` body become the message's content."""
    raw = b"Response: Follows\r\nActionID: 7\r\nfree text line\r\n--END COMMAND--\r\n\r\n"
    (message,) = AmiFramer(banner="").feed(raw)
    assert message.content == "free text line\n--END COMMAND--"


def test_malformed_and_binary_messages_are_counted_and_skipped() -> None:
    """Binary and header-less blocks are counted, described once, and skipped."""
    framer = AmiFramer(banner="")
    garbage = (
        b"\xff\xfe\x00binary\x80\r\n\r\n"  # not UTF-8
        b"Hello: world\r\n\r\n"  # neither Event nor Response
        b"Event: Hangup\r\nUniqueid: 1.1\r\n\r\n"
    )
    out = framer.feed(garbage)
    assert [m["Event"] for m in out] == ["Hangup"]
    assert framer.stats.malformed == 2
    assert framer.stats.rejected == {"not_utf8": 1, "no_event": 1}
    assert len(framer.drain_errors()) == 2
    assert framer.drain_errors() == []


@pytest.mark.parametrize("chunk", [1 << 20, 4096, 7])
def test_huge_message_is_skipped_and_the_stream_goes_on(chunk: int) -> None:
    """A 1 MB value, in one read or many, is counted as oversized; the next message lives."""
    huge = b"Event: UserEvent\r\nBody: " + b"x" * (1 << 20) + b"\r\n\r\n"
    tail = "Event: Newchannel\r\nCallerIDName: Иванов Иван Петрович\r\n\r\n".encode()
    data = huge + tail
    framer = AmiFramer(banner="")
    out = []
    for start in range(0, len(data), chunk):
        out += framer.feed(data[start : start + chunk])
    assert [m["CallerIDName"] for m in out] == [NAME]
    assert framer.stats.oversized == 1
    assert framer.buffered == 0


def test_errors_list_is_bounded() -> None:
    """A flood of garbage is counted in full but keeps only a bounded list of descriptions."""
    framer = AmiFramer(banner="")
    framer.feed(b"junk\r\n\r\n" * 1000)
    assert framer.stats.malformed == 1000
    assert len(framer.drain_errors()) <= 100


# ------------------------------------------------------------------ properties (hypothesis)

EOM = b"\r\n\r\n"
_key = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1,
               max_size=16).filter(lambda k: k.lower() not in ("event", "response", "actionid"))
# Any text Asterisk could put in a value: Cyrillic, colons, spaces, NUL; never a line end.
_value = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=40)
_message = st.tuples(
    st.sampled_from(["Newchannel", "Hangup", "VarSet", "UserEvent", "Событие"]) | _value,
    st.lists(st.tuples(_key, _value), max_size=8),
)


def _encode(event: str, pairs: list[tuple[str, str]]) -> bytes:
    lines = [f"Event: {event}", *(f"{k}: {v}" for k, v in pairs)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")


def _expected(event: str, pairs: list[tuple[str, str]]) -> dict[str, object]:
    """What the framer must give back: repeated keys (any case) as a list under the first
    spelling, in order."""
    headers: dict[str, object] = {"Event": event}
    spelling: dict[str, str] = {}
    for key, value in pairs:
        key = spelling.setdefault(key.lower(), key)
        previous = headers.get(key)
        if previous is None:
            headers[key] = value
        elif isinstance(previous, list):
            previous.append(value)
        else:
            headers[key] = [previous, value]
    return headers


def _chunks(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(c, len(data)) for c in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]


@settings(max_examples=200, deadline=None, database=None)
@given(messages=st.lists(_message, min_size=1, max_size=6),
       cuts=st.lists(st.integers(min_value=0, max_value=2000), max_size=30))
def test_valid_messages_round_trip_whatever_the_chunking(
    messages: list[tuple[str, list[tuple[str, str]]]], cuts: list[int]
) -> None:
    """Any well-formed messages, cut into any reads, come out exactly as written: every value
    (empty, Cyrillic, with colons and spaces) and every repetition, nothing more."""
    data = b"".join(_encode(event, pairs) for event, pairs in messages)
    framer = AmiFramer(banner="")
    out = [m for chunk in _chunks(data, cuts) for m in framer.feed(chunk)]
    assert [{k: v for k, v in m.items() if k != "content"} for m in out] == [
        _expected(event, pairs) for event, pairs in messages]
    assert framer.stats.rejected == {} and framer.buffered == 0


@settings(max_examples=300, deadline=None, database=None)
@given(garbage=st.binary(max_size=3000), cuts=st.lists(st.integers(min_value=0, max_value=3100),
                                                         max_size=30))
def test_arbitrary_bytes_never_break_the_framer(garbage: bytes, cuts: list[int]) -> None:
    """Any bytes in any reads: no exception, only Messages with an Event or a Response come
    out, memory stays bounded, and after a blank line the next real message is framed
    intact (the stream resynchronises)."""
    framer = AmiFramer(banner="", max_message_bytes=1024)
    tail = "Event: Hangup\r\nUniqueid: 1.1\r\nCallerIDName: Иванов\r\n\r\n".encode()
    data = garbage + EOM + tail
    out = []
    for chunk in _chunks(data, cuts):
        out += framer.feed(chunk)
        assert framer.buffered <= 1024 + len(chunk)
    assert all("Event" in m or "Response" in m for m in out)
    assert dict(out[-1].items()) == {"Event": "Hangup", "Uniqueid": "1.1", "CallerIDName": "Иванов",
                                     "content": ""}
    assert framer.buffered == 0
