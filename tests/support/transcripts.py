"""Replay helper for the recorded AMI sessions in ../shared/ami-transcripts/.

Each transcript is one real Asterisk 22 AMI session, one JSON object a line:
`{"t": seconds since connect, "dir": "in" | "out", "data": exact text}`. Only what Asterisk
sent (`in`) is replayed, through the project's own byte framer, exactly as the wire gave it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hotline.pbx.ami.message import AmiMessage
from hotline.pbx.ami.wire import AmiFramer

# <repo>/tests/pbx/transcripts.py -> <repo>/../shared/ami-transcripts (a checkout named `main`
# beside `shared/`, in development and in CI alike).
TRANSCRIPTS = Path(__file__).resolve().parents[3] / "shared" / "ami-transcripts"
# An arbitrary fixed connect time, so event times in assertions are reproducible.
EPOCH = datetime(2026, 11, 23, 14, 35, 23, tzinfo=UTC)


def transcript_names() -> list[str]:
    """Names (without `.jsonl`) of every recorded session."""
    return sorted(path.stem for path in TRANSCRIPTS.glob("*.jsonl"))


def load(name: str, directory: Path = TRANSCRIPTS) -> tuple[list[AmiMessage], list[datetime]]:
    """The messages Asterisk sent in transcript `name`, and when each arrived.

    A message's time is that of the chunk that completed it, counted from `EPOCH`.
    """
    framer = AmiFramer()
    messages: list[AmiMessage] = []
    times: list[datetime] = []
    with (directory / f"{name}.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            if record["dir"] != "in":
                continue
            at = EPOCH + timedelta(seconds=record["t"])
            for message in framer.feed(record["data"].encode("utf-8")):
                messages.append(message)
                times.append(at)
    return messages, times
