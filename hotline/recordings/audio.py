"""Pure audio functions: check a WAV, measure it with pydub, compress it with ffmpeg, hash it.

No database, no settings, no event loop: the worker runs these in threads. Every failure is an
`AudioProblem` whose `kind` is the recording status it leads to and whose `message` is the
Russian text shown to the administrator.
"""

from __future__ import annotations

import hashlib
import os
import struct
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

with warnings.catch_warnings():
    # pydub needs audioop, deprecated in 3.11 (pydub brings its own copy for 3.13).
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

    from pydub import AudioSegment

ProblemKind = Literal["missing", "empty", "truncated", "corrupt", "failed"]
Format = Literal["ogg", "mp3"]

SILENCE_DBFS = -50.0
WINDOW_MS = 50
ENCODE_TIMEOUT = 600.0
_CHUNK = 1 << 20
_CODECS: dict[str, list[str]] = {
    # Opus in Ogg, tuned for telephone speech; bitexact keeps the output reproducible.
    "ogg": ["-c:a", "libopus", "-b:a", "16k", "-application", "voip", "-compression_level", "5"],
    "mp3": ["-c:a", "libmp3lame", "-b:a", "24k"],
}


class AudioProblem(Exception):
    """The file cannot become a stored recording (yet)."""

    def __init__(self, kind: ProblemKind, message: str) -> None:
        super().__init__(message)
        self.kind: ProblemKind = kind
        self.message = message


@dataclass(frozen=True, slots=True)
class WavHeader:
    """What the RIFF header of a PCM WAV says, and how much audio is really there."""

    channels: int
    sample_rate: int
    sample_width: int
    data_bytes: int


@dataclass(frozen=True, slots=True)
class AudioFacts:
    duration_seconds: float
    silence_ratio: float
    sample_rate: int
    channels: int


@dataclass(frozen=True, slots=True)
class Prepared:
    """A WAV checked, measured and compressed into `compressed` (a temporary file)."""

    facts: AudioFacts
    compressed: Path
    sha256: str
    size_bytes: int


def check_wav(path: Path) -> WavHeader:
    """Read only the header: missing, empty, not a WAV, or cut short (truncated)."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise AudioProblem("missing", f"файл записи не найден: {path.name}") from None
    if size == 0:
        raise AudioProblem("empty", f"файл записи пустой (0 байт): {path.name}")
    with path.open("rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            raise AudioProblem("corrupt", f"не WAV-файл: {path.name}")
        fmt: tuple[int, int, int, int] | None = None
        while True:
            chunk = f.read(8)
            if len(chunk) < 8:
                raise AudioProblem("truncated", f"файл записи оборван до начала звука: {path.name}")
            chunk_id, chunk_size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
            if chunk_id == b"fmt ":
                body = f.read(chunk_size)
                if len(body) < 16:
                    raise AudioProblem("truncated", f"заголовок WAV оборван: {path.name}")
                tag, channels, rate, _, _, bits = struct.unpack("<HHIIHH", body[:16])
                fmt = (tag, channels, rate, bits)
            elif chunk_id == b"data":
                break
            else:
                f.seek(chunk_size + (chunk_size & 1), os.SEEK_CUR)
        available = size - f.tell()
    if fmt is None:
        raise AudioProblem("corrupt", f"в WAV нет описания формата: {path.name}")
    tag, channels, rate, bits = fmt
    if tag != 1 or bits not in (8, 16, 24, 32) or not channels or not rate:
        raise AudioProblem("corrupt", f"WAV не в формате PCM ({tag=}, {bits} бит): {path.name}")
    if chunk_size > available:
        raise AudioProblem(
            "truncated",
            f"файл записи оборван: в заголовке {chunk_size} байт звука, в файле {available}: {path.name}",
        )
    if chunk_size == 0:
        raise AudioProblem("empty", f"в файле записи нет звука: {path.name}")
    return WavHeader(channels, rate, bits // 8, chunk_size)


def analyse(path: Path, silence_dbfs: float = SILENCE_DBFS) -> AudioFacts:
    """Duration and the share of silence (50 ms windows quieter than `silence_dbfs`)."""
    check_wav(path)
    try:
        with path.open("rb") as f:
            segment = AudioSegment.from_wav(f)
    except Exception as exc:  # pydub raises bare errors of the wave parser
        raise AudioProblem("corrupt", f"WAV не читается: {exc}: {path.name}") from None
    width, raw = segment.sample_width, segment.raw_data
    window = max(width * segment.channels, int(segment.frame_rate * WINDOW_MS / 1000) * segment.frame_width)
    threshold = (1 << (8 * width - 1)) * 10 ** (silence_dbfs / 20)
    windows = silent = 0
    view = memoryview(raw)
    for start in range(0, len(raw) - len(raw) % segment.frame_width, window):
        piece = view[start:start + window]
        windows += 1
        if audioop.rms(piece, width) <= threshold:
            silent += 1
    duration = len(segment) / 1000.0
    if duration <= 0:
        raise AudioProblem("empty", f"в файле записи нет звука: {path.name}")
    return AudioFacts(duration, silent / windows if windows else 1.0, segment.frame_rate, segment.channels)


def encode(source: Path, target: Path, fmt: Format, ffmpeg: str = "ffmpeg") -> None:
    """Compress `source` into `target` (Opus/Ogg or MP3) with ffmpeg."""
    command = [
        ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", str(source),
        *_CODECS[fmt], "-fflags", "+bitexact", "-flags:a", "+bitexact", "-f", fmt, str(target),
    ]
    try:
        done = subprocess.run(command, capture_output=True, timeout=ENCODE_TIMEOUT, check=False)
    except FileNotFoundError:
        raise AudioProblem("failed", f"ffmpeg не найден ({ffmpeg}): запись не сжата") from None
    except subprocess.TimeoutExpired:
        raise AudioProblem("failed", f"ffmpeg не закончил сжатие за {ENCODE_TIMEOUT:.0f} с") from None
    if done.returncode != 0:
        tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["?"]
        raise AudioProblem("failed", f"ffmpeg не смог сжать запись (код {done.returncode}): {tail[0]}")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def prepare(
    source: Path, work_dir: Path, fmt: Format, ffmpeg: str = "ffmpeg", *, name: str | None = None
) -> Prepared:
    """Check, measure and compress one WAV; the compressed copy goes to `work_dir`, named
    `name` (default: the source's): two PBXs' files of one name may be compressed at once.

    A full disk while writing the copy is reported as `failed`; the source is never touched.
    """
    facts = analyse(source)
    work_dir.mkdir(parents=True, exist_ok=True)
    target = work_dir / f"{name or source.stem}.{os.getpid()}.{fmt}"
    try:
        encode(source, target, fmt, ffmpeg)
        return Prepared(facts, target, sha256_of(target), target.stat().st_size)
    except OSError as exc:
        target.unlink(missing_ok=True)
        raise AudioProblem("failed", f"сжатая копия не записана: {exc.strerror or exc}") from None
    except AudioProblem:
        target.unlink(missing_ok=True)
        raise
