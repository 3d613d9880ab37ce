"""The simulated PBX's recordings last as long as the conversation did, as MixMonitor's."""

from __future__ import annotations

import time
import warnings
from pathlib import Path

from hotline.sim.recorder import RATE, SpoolRecorder
from hotline.sim.simulator import PbxSimulator, Timing

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from pydub import AudioSegment


def _wav(path: Path) -> AudioSegment:
    with path.open("rb") as f:
        return AudioSegment.from_wav(f)


def test_a_call_of_3_48_is_recorded_whole_at_8_khz(tmp_path: Path) -> None:
    """3 min 48 s of talk: a file of 3:48 (not the first 30 s), 8 kHz 16-bit mono like
    MixMonitor's, 16 KB a second, written quickly."""
    recorder = SpoolRecorder(tmp_path)
    started = time.monotonic()
    path = recorder.write("hotline/20261201/1796190330.1.wav", 228.0)
    took = time.monotonic() - started
    audio = _wav(path)
    assert abs(audio.duration_seconds - 228.0) < 0.01
    assert (audio.frame_rate, audio.sample_width, audio.channels) == (RATE, 2, 1)
    assert path.stat().st_size < 228 * RATE * 2 + 1024
    assert audio.dBFS > -40  # a tone, not silence: the reconciliation would call it silent
    assert took < 1.0, took


def test_a_cap_is_only_what_a_test_asks_for(tmp_path: Path) -> None:
    assert SpoolRecorder(tmp_path).max_seconds is None
    capped = SpoolRecorder(tmp_path, max_seconds=3.0).write("hotline/x.wav", 228.0)
    assert abs(_wav(capped).duration_seconds - 3.0) < 0.01
    empty = SpoolRecorder(tmp_path).write("hotline/never-bridged.wav", 0)
    assert _wav(empty).duration_seconds == 0  # MixMonitor(b), no bridge


async def test_the_simulator_records_the_conversation_as_long_as_it_really_lasted(
        settings, tmp_path: Path) -> None:
    """At time scale 0.5 a call of 4 simulated seconds of talk lasts 2 real seconds, as the
    journal's talk time shows it: so does its recording (the demo's --time-scale stretches
    calls the other way, and its recordings with them)."""
    async with PbxSimulator(settings, time_scale=0.5, auth_failure_delay=0, seed=2,
                            recordings_dir=tmp_path) as sim:
        call = sim.place_call("88007758565", scenario="answered", agent="PJSIP/op101",
                              timing=Timing(ring=0.2, talk=4.0))
        await sim.wait_idle(timeout=20)
    assert call.outcome == "completed"
    [path] = [p for p in sim.recorder.written if "msg-" not in p.name]
    duration = _wav(path).duration_seconds
    assert 1.8 <= duration <= 2.6, duration
