"""The local storage: immutable objects, keys confined to the folder, orphans listable."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from hotline.recordings.playback import RecordingTampered, RecordingUnavailable, open_verified
from hotline.recordings.storage import LocalStorage, ObjectExists
from journal.models import Recording
from tests.support.audio import REAL_WAV


def test_put_is_once_only_and_read_only(storage: LocalStorage) -> None:
    size = storage.put(REAL_WAV, "2026/11/23/1-a.wav")
    assert size == REAL_WAV.stat().st_size and storage.exists("2026/11/23/1-a.wav")
    assert storage.path("2026/11/23/1-a.wav").stat().st_mode & 0o222 == 0
    with pytest.raises(ObjectExists):
        storage.put(REAL_WAV, "2026/11/23/1-a.wav")
    assert list(storage.keys()) == ["2026/11/23/1-a.wav"]
    assert storage.sha256("2026/11/23/1-a.wav") == hashlib.sha256(REAL_WAV.read_bytes()).hexdigest()


@pytest.mark.parametrize("key", ["", "/etc/passwd", "../x.ogg", "a/../../x.ogg"])
def test_keys_stay_inside_the_folder(storage: LocalStorage, key: str) -> None:
    with pytest.raises(ValueError):
        storage.put(REAL_WAV, key)


def test_playback_verifies_the_checksum_every_time(storage: LocalStorage) -> None:
    storage.put(REAL_WAV, "k/1.wav")
    digest = hashlib.sha256(REAL_WAV.read_bytes()).hexdigest()
    recording = Recording(id=1, status="stored", stored_path="k/1.wav", sha256=digest)
    with open_verified(storage, recording) as stream:
        assert stream.read() == REAL_WAV.read_bytes()
    path: Path = storage.path("k/1.wav")
    path.chmod(0o644)
    path.write_bytes(REAL_WAV.read_bytes()[:-2] + b"\x00\x01")
    with pytest.raises(RecordingTampered):
        open_verified(storage, recording)
    with pytest.raises(RecordingUnavailable):
        open_verified(storage, Recording(id=2, status="pending", stored_path=None, sha256=None))
