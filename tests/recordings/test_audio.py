"""The pure audio functions on real and generated files."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotline.recordings import audio
from hotline.recordings.audio import AudioProblem
from tests.support.audio import REAL_WAV, not_a_wav, silence, tone, truncated, zero_bytes


def test_the_real_mixmonitor_file_is_measured_and_compressed(tmp_path: Path) -> None:
    """Asterisk's own 8 kHz 16-bit mono WAV: about 6 s of speech, compressed to Ogg/Opus."""
    header = audio.check_wav(REAL_WAV)
    assert (header.channels, header.sample_rate, header.sample_width) == (1, 8000, 2)
    prepared = audio.prepare(REAL_WAV, tmp_path, "ogg")
    assert prepared.facts.duration_seconds == pytest.approx(5.98, abs=0.01)
    assert prepared.facts.silence_ratio < 0.5
    assert prepared.compressed.read_bytes()[:4] == b"OggS"
    assert prepared.size_bytes < REAL_WAV.stat().st_size / 4
    assert prepared.sha256 == audio.sha256_of(prepared.compressed)


def test_mp3_is_the_other_format(tmp_path: Path) -> None:
    prepared = audio.prepare(tone(tmp_path / "t.wav", 1.0), tmp_path / "out", "mp3")
    head = prepared.compressed.read_bytes()[:3]
    assert head == b"ID3" or head[:2] == b"\xff\xf3" or head[0] == 0xFF


def test_compression_is_reproducible(tmp_path: Path) -> None:
    """A retry after a lost transaction finds the same bytes already stored and adopts them."""
    first = audio.prepare(REAL_WAV, tmp_path / "a", "ogg")
    second = audio.prepare(REAL_WAV, tmp_path / "b", "ogg")
    assert first.sha256 == second.sha256


def test_silence_is_measured(tmp_path: Path) -> None:
    assert audio.analyse(silence(tmp_path / "s.wav")).silence_ratio == 1.0
    assert audio.analyse(tone(tmp_path / "t.wav")).silence_ratio == 0.0


@pytest.mark.parametrize(
    ("make", "kind"),
    [(zero_bytes, "empty"), (truncated, "truncated"), (not_a_wav, "corrupt")],
)
def test_broken_files_are_named(tmp_path: Path, make, kind: str) -> None:
    path = make(tmp_path / "x.wav")
    with pytest.raises(AudioProblem) as caught:
        audio.prepare(path, tmp_path / "out", "ogg")
    assert caught.value.kind == kind
    assert path.exists()  # the original is never touched


def test_a_missing_file_and_a_missing_ffmpeg(tmp_path: Path) -> None:
    with pytest.raises(AudioProblem) as caught:
        audio.check_wav(tmp_path / "nope.wav")
    assert caught.value.kind == "missing"
    with pytest.raises(AudioProblem) as caught:
        audio.prepare(REAL_WAV, tmp_path, "ogg", ffmpeg="/nonexistent/ffmpeg")
    assert caught.value.kind == "failed" and "ffmpeg" in caught.value.message
    assert not list(tmp_path.glob("*.ogg"))
