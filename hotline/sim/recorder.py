"""The simulated PBX's recordings: real WAV files where Asterisk would write them.

MixMonitor records a call from answer to hangup (both directions mixed, every leg after a
transfer included) into one file named by the call; the secretary's Record() writes the
message. Asterisk writes 8 kHz 16-bit mono PCM WAV into its monitor spool; so does this, with
a quiet tone and pauses standing in for speech. Time-scaled runs cap the length.
"""

from __future__ import annotations

import os
import warnings
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

    def __init__(self, root: Path, max_seconds: float = 30.0) -> None:
        self.root = Path(root)
        self.max_seconds = max_seconds
        self._second = _one_second()
        self.written: list[Path] = []

    def write(self, relative: str, seconds: float) -> Path:
        """A WAV of `seconds` (capped, at least half a second) at `relative` in the spool."""
        parts = PurePosixPath(relative).parts
        if not parts or ".." in parts or PurePosixPath(relative).is_absolute():
            raise ValueError(f"not a spool file name: {relative!r}")
        path = self.root.joinpath(*parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Zero seconds: MixMonitor(b) of a call never bridged leaves a header-only WAV.
        length_ms = 0 if seconds <= 0 else int(1000 * min(self.max_seconds, max(0.5, seconds)))
        whole, rest = divmod(length_ms, 1000)
        audio = self._second * whole + self._second[:rest]
        tmp = path.with_name(f".{path.name}.part")
        with tmp.open("wb") as f:
            audio.export(f, format="wav")
        os.replace(tmp, path)
        self.written.append(path)
        return path
