"""The secretary's prompts: every one the scripts and the hours phrase can play is committed
as 8 kHz audio, made from its current text; the builder makes only what is missing or changed."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydub import AudioSegment

from hotline.ivr.hours import hours_segments
from hotline.ivr.loader import load_scripts
from hotline.ivr.prompts import all_prompts, build, prompts_dir, stale_prompts
from journal.calendar import load_calendar_dir
from tests.support.paths import REPO

SCRIPTS = REPO / "ivr_scripts"


@pytest.fixture(scope="module")
def texts(settings) -> dict[str, str]:
    return all_prompts(load_scripts(SCRIPTS, settings))


def wav(path: Path) -> AudioSegment:
    with open(path, "rb") as handle:
        return AudioSegment.from_wav(handle)


def test_every_prompt_is_committed_and_current(texts) -> None:
    assert stale_prompts(texts, prompts_dir(SCRIPTS)) == []
    sample = wav(prompts_dir(SCRIPTS) / "time" / "h08.wav")
    assert (sample.frame_rate, sample.channels, sample.sample_width) == (8000, 1, 2)
    assert len(sample) > 200


def test_the_dialplan_prompts_are_there_too(texts) -> None:
    dialplan = (REPO / "config" / "asterisk" / "extensions.conf").read_text(encoding="utf-8")
    for prompt_id in ("call-recorded", "secretary-fallback"):
        assert f"hotline/{prompt_id}" in dialplan
        assert prompt_id in texts


def test_the_hours_phrase_only_uses_built_words(texts, settings) -> None:
    """A year of moments on every line: each word the phrase can say has its prompt."""
    calendar = load_calendar_dir(REPO / "config" / "calendar")
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    used: set[str] = set()
    while moment < datetime(2027, 1, 1, tzinfo=UTC):
        for line in settings.lines:
            used.update(s.prompt for s in hours_segments(line, calendar, moment))
        moment += timedelta(hours=7, minutes=13)
    assert used - set(texts) == set()
    assert {"time/h08", "time/m30", "time/h17", "hours/from", "hours/to"} <= used


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
def test_build_makes_only_missing_or_changed_prompts(tmp_path: Path) -> None:
    texts = {"secretary/goodbye": "До свидания!", "time/h09": "девяти"}
    first = build(texts, tmp_path)
    assert sorted(first.built) == ["secretary/goodbye", "time/h09"]
    assert build(texts, tmp_path).built == ()
    changed = build({**texts, "time/h09": "девяти ноль ноль"}, tmp_path)
    assert changed.built == ("time/h09",)
    (tmp_path / "secretary" / "goodbye.wav").unlink()
    assert build(texts, tmp_path).built == ("secretary/goodbye", "time/h09")
    audio = wav(tmp_path / "secretary" / "goodbye.wav")
    assert audio.frame_rate == 8000 and len(audio) > 300
