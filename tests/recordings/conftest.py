"""Real audio for the recordings' tests: the Asterisk MixMonitor file of the shared transcripts,
and generated files (tone, silence, truncated, zero bytes, not a WAV)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotline.config import RecordingsSettings
from hotline.recordings.storage import LocalStorage

@pytest.fixture
def rec_settings(tmp_path: Path) -> RecordingsSettings:
    return RecordingsSettings(pbx_dir=tmp_path / "pbx", orphan_grace_minutes=0)


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "recordings")




