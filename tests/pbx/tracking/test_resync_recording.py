"""The recording of a call first seen in a resynchronisation snapshot (issue 20).

A standby that takes over the AMI link mid-call (or any reconnect) never sees the call's
`MixMonitorStart`: the recording had started before. The dialplan names the file in the
inherited `__REC`, which manager.conf's `channelvars` exports on every channel snapshot as
`ChanVariable: REC=...`, the snapshot's CoreShowChannel and Status answers included. The
tracker reports that recording from the snapshot, once per file.

The snapshot is the real Asterisk 22 session `resync_snapshot` with the `ChanVariable` lines
Asterisk adds after `Linkedid` when `channelvars` is set as the project configures it
(hotline/pbx/config/render.py), framed from the wire bytes like the rest.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from hotline.pbx.ami.message import AmiMessage
from hotline.pbx.config.render import CHANNEL_VARS
from hotline.pbx.events import CallArrived, CallEnded, OperatorAnswered, RecordingStarted
from hotline.pbx.tracking.calls import CallTracker
from tests.support.transcripts import EPOCH, TRANSCRIPTS, load

NAME = "resync_snapshot"
CALL = "1795444727.21"
TRUNK = "PJSIP/trunk-00000013"
REC = "hotline/20261123/1795444727.21.wav"
LINE = "88007758565"


def _chan_variables(values: dict[str, str]) -> str:
    """The `ChanVariable` lines of every configured channel variable, empty when unset (as
    Asterisk sends them)."""
    return "".join(f"ChanVariable: {name}={values.get(name, '')}\r\n" for name in CHANNEL_VARS)


def _as_configured(directory: Path, values: dict[str, str]) -> list[AmiMessage]:
    """The session's messages from the first snapshot answer on, each channel snapshot
    carrying the call's exported variables (both legs inherit them from the citizen's)."""
    marker = f"Linkedid: {CALL}\r\n"
    block = _chan_variables(values)
    started = False
    with (TRANSCRIPTS / f"{NAME}.jsonl").open(encoding="utf-8") as source, \
            (directory / f"{NAME}.jsonl").open("w", encoding="utf-8") as target:
        for line in source:
            record = json.loads(line)
            started = started or "Event: CoreShowChannel\r\n" in record["data"]
            if record["dir"] == "in" and started:
                record["data"] = record["data"].replace(marker, marker + block)
            target.write(json.dumps(record, ensure_ascii=False) + "\n")
    messages, _times = load(NAME, directory)
    start = next(i for i, m in enumerate(messages) if m.get("Event") == "CoreShowChannel")
    return messages[start:]


def _feed(tracker: CallTracker, messages: list[AmiMessage]) -> list:
    events = []
    for tick, message in enumerate(messages, start=1):
        events += tracker.feed(message, EPOCH + timedelta(seconds=tick))
    return events


TAGS = {"HOTLINE_LINE": LINE, "HOTLINE_ORG": "tfoms", "REC": REC}


def test_a_call_first_seen_in_the_snapshot_gets_its_recording_once(tmp_path: Path) -> None:
    """Two legs, each in CoreShowChannel and Status, all showing REC: one RecordingStarted,
    after the call's arrival and before the operator found bridged with the citizen."""
    messages = _as_configured(tmp_path, TAGS)
    tracker = CallTracker()
    events = _feed(tracker, messages)
    assert [type(e).__name__ for e in events] == [
        "CallArrived", "RecordingStarted", "OperatorAnswered", "CallEnded"]
    arrived, recording, answered, ended = events
    assert isinstance(arrived, CallArrived) and arrived.resumed
    assert (arrived.call_id, arrived.organization, arrived.line) == (CALL, "tfoms", LINE)
    assert recording == RecordingStarted(call_id=CALL, at=recording.at, file=REC, channel=TRUNK)
    assert isinstance(answered, OperatorAnswered) and answered.interface == "PJSIP/op102"
    assert isinstance(ended, CallEnded) and ended.outcome == "answered"
    snapshot = tracker.snapshot(CALL)
    assert snapshot is not None and snapshot.recording_file == REC
    assert tracker.stats.orphans == tracker.stats.internal_errors == 0


def test_a_mixmonitor_start_after_the_snapshot_reports_nothing_more(tmp_path: Path) -> None:
    """The snapshot came between the dialplan's Set(__REC) and MixMonitor (or the event
    arrived late): the MixMonitorStart names the same file and is not reported again."""
    messages = _as_configured(tmp_path, TAGS)
    before_hangup = next(i for i, m in enumerate(messages) if m.get("Event") == "Hangup")
    tracker = CallTracker()
    events = _feed(tracker, messages[:before_hangup])
    snapshot_of_trunk = next(m for m in messages if m.get("Channel") == TRUNK)
    headers = {key: value for key, value in snapshot_of_trunk.items() if key != "content"}
    headers["Event"] = "MixMonitorStart"
    for key in ("ActionID", "Application", "ApplicationData", "Duration", "BridgeId"):
        headers.pop(key, None)
    late = tracker.feed(AmiMessage(headers), EPOCH + timedelta(minutes=1))
    assert late == []
    assert [type(e).__name__ for e in events].count("RecordingStarted") == 1


def test_a_snapshot_without_the_variable_reports_no_recording(tmp_path: Path) -> None:
    """REC unset (`ChanVariable: REC=`): nothing is said of a recording until MixMonitorStart
    says it, and then once."""
    messages = _as_configured(tmp_path, {"HOTLINE_LINE": LINE, "HOTLINE_ORG": "tfoms"})
    tracker = CallTracker()
    events = _feed(tracker, messages)
    assert "RecordingStarted" not in [type(e).__name__ for e in events]


def test_a_call_followed_from_its_start_keeps_one_recording(tmp_path: Path) -> None:
    """The tracker saw the MixMonitorStart before the reconnect: the snapshot's REC is the
    same file, and the whole session still reports the recording once."""
    _as_configured(tmp_path, TAGS)
    messages, times = load(NAME, tmp_path)
    tracker = CallTracker()
    events = []
    for message, at in zip(messages, times, strict=True):
        events += tracker.feed(message, at)
    recordings = [e for e in events if isinstance(e, RecordingStarted)]
    assert [(r.file, r.channel) for r in recordings] == [(REC, TRUNK)]
