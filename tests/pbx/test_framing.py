"""The byte framer against the real Asterisk 22 transcripts, cut at every kind of place."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from panoramisk.message import Message

from hotline.pbx.framing import AmiFramer, frame_stream, make_message, parse_message
from tests.pbx.ami_peer import load_transcript, transcript_names

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
    """`Variable:` repeated is a list; a repeated ActionID keeps its first value."""
    raw = (
        b"Event: Status\r\nVariable: HOTLINE_ID=42\r\nVariable: HOTLINE_LINE=88007758565\r\n"
        b"ActionID: a-1\r\nActionID: a-2\r\n\r\n"
    )
    message = parse_message(raw[:-4])
    assert message["Variable"] == ["HOTLINE_ID=42", "HOTLINE_LINE=88007758565"]
    assert message["ActionID"] == "a-1"


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


@pytest.mark.parametrize("headers", [
    {"Event": "VarSet", "Uniqueid": "1.1", "Variable": "X", "Value": ""},
    {"Event": "Newchannel", "ChanVariable": ["HOTLINE_ID=1.1", "HOTLINE_LINE=88002009204"]},
    {"Response": "Success", "ActionID": "a-1", "Message": "Pong"},
    {"Event": "UserEvent", "Content": "a header named like the body", "body": "x"},
    {"Event": "Odd", "CallerIDName": "Иванов", "calleridname": "a later key of another case"},
])
def test_make_message_builds_what_panoramisk_builds(headers: dict) -> None:
    """The fast constructor of the framer gives the very Message panoramisk's would."""
    fast, slow = make_message(dict(headers), "body text"), Message(dict(headers), content="body text")
    assert fast._store == slow._store
    assert list(fast.items()) == list(slow.items()) and fast.manager is slow.manager is None
    assert (fast.event, fast.success, fast.content) == (slow.event, slow.success, slow.content)
