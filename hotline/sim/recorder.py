"""The simulated PBX's recordings: real WAV files where Asterisk would write them.

MixMonitor records a call from answer to hangup (both directions mixed, every leg after a
transfer included) into one file named by the call; the secretary's Record() writes the
message. Asterisk writes 8 kHz 16-bit mono PCM WAV into its monitor spool; so does this, with
a quiet tone and pauses standing in for speech, as long as the conversation really lasted
(16 KB a second: a 3:48 call is 3.6 MB, which the service compresses and removes). Tests may
cap the length to keep their files small; nothing else does.
"""

from __future__ import annotations

import os
import warnings
import wave
from pathlib import Path, PurePosixPath

with warnings.catch_warnings():
    # pydub needs audioop, deprecated in 3.11.
    warnings.simplefilter("ignore", DeprecationWarning)
    from pydub import AudioSegment
    from pydub.generators import Sine

RATE = 8000


def _one_second() -> AudioSegment:
    tone = Sine(425, sample_rate=RATE, bit_depth=16).to_audio_segment(duration=700, volume=-22.0)
    pause = AudioSegment.silent(duration=300, frame_rate=RATE)
    return (tone + pause).set_channels(1).set_sample_width(2).set_frame_rate(RATE)


class SpoolRecorder:
    """Writes the recordings of finished simulated calls into `root` (the monitor spool)."""

    def __init__(self, root: Path, max_seconds: float | None = None) -> None:
        self.root = Path(root)
        self.max_seconds = max_seconds
        self._second = _one_second().raw_data
        self.written: list[Path] = []

    def write(self, relative: str, seconds: float) -> Path:
        """A WAV of `seconds` (at least half a second; at most `max_seconds` when a test set
        it) at `relative` in the spool, written a second at a time."""
        parts = PurePosixPath(relative).parts
        if not parts or ".." in parts or PurePosixPath(relative).is_absolute():
            raise ValueError(f"not a spool file name: {relative!r}")
        path = self.root.joinpath(*parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Zero seconds: MixMonitor(b) of a call never bridged leaves a header-only WAV.
        if seconds > 0:
            seconds = max(0.5, seconds)
            if self.max_seconds is not None:
                seconds = min(self.max_seconds, seconds)
        frames = int(RATE * max(0.0, seconds))
        whole, rest = divmod(frames, RATE)
        tmp = path.with_name(f".{path.name}.part")
        with wave.open(str(tmp), "wb") as f:
            f.setnchannels(1)
            f.setsampwidth(2)
            f.setframerate(RATE)
            for _ in range(whole):
                f.writeframesraw(self._second)
            f.writeframesraw(self._second[: 2 * rest])
        os.replace(tmp, path)
        self.written.append(path)
        return path
