"""The project's own AMI message: what panoramisk's `Message` gave, read-only, no private fields."""

from __future__ import annotations

import copy
import pickle

import pytest
from panoramisk.message import Message

from hotline.pbx.ami.message import AmiMessage


@pytest.mark.parametrize("headers", [
    {"Event": "VarSet", "Uniqueid": "1.1", "Variable": "X", "Value": ""},
    {"Event": "Newchannel", "ChanVariable": ["HOTLINE_ID=1.1", "HOTLINE_LINE=88002009204"]},
    {"Response": "Success", "ActionID": "a-1", "Message": "Pong"},
    {"Response": "Error", "ActionID": "a-2", "Message": "Permission denied"},
    {"Event": "Odd", "CallerIDName": "Иванов", "calleridname": "a later key of another case"},
])
def test_reads_as_panoramisk_message_did(headers: dict) -> None:
    """Same items in the same order (the body last, as `content`), same lookups in any case,
    same `.success` and `.content` as panoramisk's Message built from the same headers."""
    ours, theirs = AmiMessage(dict(headers), "body text"), Message(dict(headers), content="body text")
    assert list(ours.items()) == list(theirs.items())
    assert (ours.success, ours.content) == (theirs.success, theirs.content)
    for key in headers:
        assert ours[key.upper()] == theirs[key.upper()] and ours.get(key.lower()) == theirs.get(key)
    assert ours == theirs


def test_a_header_named_content_is_not_lost_to_the_body() -> None:
    """panoramisk overwrote a `Content:` header with the body; here the header wins the
    lookup and the body stays in `.content`."""
    message = AmiMessage({"Event": "UserEvent", "Content": "a header named like the body"}, "body")
    assert message["content"] == "a header named like the body"
    assert message.content == "body"
    assert list(message) == ["Event", "Content"]


def test_repeated_headers_read_as_lists_and_as_tuples() -> None:
    """`ChanVariable` given twice: a list from `[]`/`get`, a tuple from `getall`; a single
    value is a one-element tuple there, an absent one an empty tuple."""
    message = AmiMessage({"Event": "Newchannel", "ChanVariable": ["A=1", "B=2"], "Uniqueid": "1.1"})
    assert message["chanvariable"] == ["A=1", "B=2"]
    assert message.getall("ChanVariable") == ("A=1", "B=2")
    assert message.getall("uniqueid") == ("1.1",)
    assert message.getall("Variable") == ()
    assert message.folded["chanvariable"] == ("A=1", "B=2")


def test_a_missing_header_is_missing() -> None:
    """Not panoramisk's '' for anything unknown: KeyError, or get's default."""
    message = AmiMessage({"Event": "Hangup"})
    with pytest.raises(KeyError):
        message["Uniqueid"]
    assert message.get("Uniqueid") is None and message.get("Uniqueid", "?") == "?"
    assert "Uniqueid" not in message and "EVENT" in message
    assert (message.event, message.action_id) == ("Hangup", None)
    assert AmiMessage({"Response": "Success", "ActionID": "7"}).event is None
    assert AmiMessage({"Response": "Success", "ActionID": "7"}).action_id == "7"


def test_nothing_can_be_changed() -> None:
    """Frozen: no item or attribute assignment, and the lists handed out are copies (`folded`
    is typed read-only: mypy refuses a write to it)."""
    message = AmiMessage({"Event": "Newchannel", "ChanVariable": ["A=1", "B=2"]})
    with pytest.raises(TypeError):
        message["Event"] = "Hangup"  # type: ignore[index]
    with pytest.raises(AttributeError):
        message.content = "x"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        message.extra = 1  # type: ignore[attr-defined]
    values = message["ChanVariable"]
    assert isinstance(values, list)
    values.append("C=3")
    assert message["ChanVariable"] == ["A=1", "B=2"]


def test_copies_and_pickles_as_itself() -> None:
    """A message survives copy and pickle whole: headers, order, repetitions and body."""
    message = AmiMessage([("Response", "Follows"), ("ActionID", "1"), ("Output", ["a", "b"])], "text")
    for again in (copy.copy(message), copy.deepcopy(message), pickle.loads(pickle.dumps(message))):
        assert list(again.items()) == list(message.items()) and again.content == "text"
    assert "Output=['a', 'b']" in repr(message)
