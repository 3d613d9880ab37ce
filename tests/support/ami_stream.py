"""AMI streams as recorded from a real Asterisk 22 and as the simulator sends them: split
into messages, normalised (identifiers, channel counters, dates) so that the two compare."""

from __future__ import annotations

import re

from hotline.sim.dialplan import Phone

# The fund's phones as config/asterisk/pjsip.conf declares them (each its own caller id).
FUND_ROSTER = {
    "l1-tfoms": [Phone("PJSIP/op101", "op101", ("op101", "op101")),
                 Phone("PJSIP/op102", "op102", ("op102", "op102"))],
    "l2-tfoms": [Phone("PJSIP/op201", "op201", ("op201", "op201"))],
}



def messages(data: bytes) -> list[list[tuple[str, str]]]:
    """Each message as its ordered (key, value) pairs, exactly as written on the wire."""
    body = data.split(b"\r\n", 1)[1] if data.startswith(b"Asterisk Call Manager/") else data
    out = []
    for raw in body.split(b"\r\n\r\n"):
        lines = [ln for ln in raw.decode("utf-8").split("\r\n") if ln]
        if lines:
            out.append([(k, v) for k, _, v in (ln.partition(": ") for ln in lines)])
    return out


class Normaliser:
    """Identifiers (Uniqueids, Linkedids, ActionIDs) become `<id1>`, `<id2>`... in order of
    first appearance, channel counters `-<n1>`..., dates `<date>`; Timestamp is dropped (the
    simulator writes none: timestampevents is a manager.conf setting it does not play)."""

    def __init__(self) -> None:
        self.ids: dict[str, str] = {}
        self.counters: dict[str, str] = {}

    def _id(self, value: str) -> str:
        return self.ids.setdefault(value, f"<id{len(self.ids) + 1}>")

    def _channel(self, match: re.Match[str]) -> str:
        counter = self.counters.setdefault(match.group(2), f"<n{len(self.counters) + 1}>")
        return f"{match.group(1)}-{counter}"

    def value(self, key: str, value: str) -> str:
        if key.endswith(("Uniqueid", "Linkedid")) or key == "ActionID":
            return self._id(value)
        value = re.sub(r"(PJSIP/[A-Za-z0-9_]+)-([0-9a-f]{8})", self._channel, value)
        value = re.sub(r"hotline/\d{8}/", "hotline/<date>/", value)
        # Variables naming the call (HOTLINE_ID=..., HOTLINE_SPY=..., its recording).
        return re.sub(r"(=|/)(\d{10}\.\d+)", lambda m: m.group(1) + self._id(m.group(2)), value)

    def message(self, message: list[tuple[str, str]]) -> list[tuple[str, str]]:
        out = []
        for key, value in message:
            if key == "Timestamp":
                continue
            key = re.sub(r"\(PJSIP/([A-Za-z0-9_]+)-[0-9a-f]{8}\)", r"(PJSIP/\1-<n>)", key)
            out.append((key, self.value(key, value)))
        return out
