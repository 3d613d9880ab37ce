"""The secretary's Russian prompts as audio Asterisk plays: `ivr_scripts/prompts/ru/<id>.wav`.

Every prompt is text first (the YAML scripts, and the words of the working-hours phrase);
`hotline prompts build` synthesises the missing or changed ones with espeak-ng and converts
them with pydub to 8 kHz 16-bit mono WAV. The files and a manifest of what text each was made
from are committed, so a deployment needs no TTS; `hotline prompts build --check` says whether
they are complete and current.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import time
from pathlib import Path

from hotline.ivr.loader import IvrScripts
from hotline.ivr.numerals import MONTHS_GEN, WEEKDAY_IDS, WEEKDAYS_ACC, ordinal_genitive, time_segments

PROMPTS_SUBDIR = Path("prompts") / "ru"
MANIFEST = "manifest.json"
VOICE = "ru"
SPEED_WPM = 150
SAMPLE_RATE = 8000
# Words of the working-hours phrase that are not numbers (see hotline/ivr/hours.py).
PHRASE_WORDS = {
    "hours/around-the-clock": "Операторы работают круглосуточно",
    "hours/unknown": "Операторы сейчас не работают",
    "hours/today-until": "Сегодня операторы работают до",
    "hours/intro": "Операторы работают",
    "hours/from": "с",
    "hours/to": "до",
    "day/today": "сегодня",
    "day/tomorrow": "завтра",
}
# Played by the dialplan itself (config/asterisk/extensions.conf), also with the service down.
DIALPLAN_PROMPTS = {
    "call-recorded": "Внимание! В целях контроля качества разговор записывается.",
    "secretary-fallback": "Здравствуйте! Вы позвонили на горячую линию по вопросам обязательного "
    "медицинского страхования. Сейчас операторы не могут ответить. После звукового сигнала "
    "назовите ваши фамилию, имя, отчество, номер телефона и коротко изложите вопрос. "
    "Мы перезвоним вам в рабочее время.",
    # app_queue's announcements (config/asterisk/queues.conf; the numbers are Asterisk's own).
    "queue-first": "Вы первый в очереди. Оператор ответит вам в ближайшее время.",
    "queue-position": "Ваш номер в очереди:",
    "queue-stay": "Пожалуйста, оставайтесь на линии.",
    "queue-more-than": "Звонков в очереди больше, чем",
    "queue-holdtime": "Примерное время ожидания в минутах:",
    # Installed as ru_hotline/digits/1n: the minutes' "1" said as in counting (not «одно»).
    "queue-one": "один.",
    "queue-callback-offer": "Чтобы не ждать на линии, нажмите 1 — оператор вам перезвонит.",
    # The FastAGI callback dialog after key 1 in the queue (hotline/ivr/queue_callback.py).
    "queue-callback-ok": "Спасибо! Ваш звонок записан, оператор перезвонит вам",
    "queue-callback-hour": "в течение часа.",
    "queue-callback-workday": "в рабочее время.",
}


class PromptBuildError(RuntimeError):
    """A prompt could not be synthesised (no espeak-ng, or it failed)."""


@dataclass(frozen=True, slots=True)
class BuildReport:
    built: tuple[str, ...]
    unchanged: int
    stale: tuple[str, ...]  # files present but made from other text (or missing)
    orphans: tuple[str, ...]  # files no script uses any more (kept; listed)


def number_words() -> dict[str, str]:
    """Every hour, minute, weekday, day of month and month the hours phrase can say."""
    words: dict[str, str] = {}
    for hour in range(24):
        segment = time_segments(time(hour, 0))[0]
        words[segment.prompt] = segment.text
    for minute in range(1, 60):
        segment = time_segments(time(0, minute))[1]
        words[segment.prompt] = segment.text
    for index, day_id in enumerate(WEEKDAY_IDS):
        words[f"day/{day_id}"] = WEEKDAYS_ACC[index]
    for day in range(1, 32):
        words[f"date/d{day:02d}"] = ordinal_genitive(day)
    for month, name in enumerate(MONTHS_GEN, start=1):
        words[f"date/m{month:02d}"] = name
    return words


def all_prompts(scripts: IvrScripts) -> dict[str, str]:
    """Prompt id → Russian text, for every prompt any script or the hours phrase can play."""
    texts: dict[str, str] = {}
    for script in [*scripts.secretary.values(), scripts.survey]:
        texts.update(script.prompts)
    return {**texts, **DIALPLAN_PROMPTS, **PHRASE_WORDS, **number_words()}


def fingerprint(text: str) -> str:
    """What a file was made from: the text and the voice settings."""
    return hashlib.sha256(f"{VOICE}|{SPEED_WPM}|{SAMPLE_RATE}|{text}".encode()).hexdigest()[:16]


def prompts_dir(scripts_dir: Path) -> Path:
    return Path(scripts_dir) / PROMPTS_SUBDIR


def _manifest(directory: Path) -> dict[str, str]:
    try:
        return json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def stale_prompts(texts: Mapping[str, str], directory: Path) -> list[str]:
    """Ids whose file is missing or was made from other text."""
    manifest = _manifest(directory)
    return sorted(
        pid for pid, text in texts.items()
        if manifest.get(pid) != fingerprint(text) or not (directory / f"{pid}.wav").is_file()
    )


def orphan_prompts(texts: Mapping[str, str], directory: Path) -> list[str]:
    if not directory.is_dir():
        return []
    present = {str(p.relative_to(directory).with_suffix("")) for p in directory.rglob("*.wav")}
    return sorted(present - set(texts))


def synthesise(text: str, target: Path, espeak: str = "espeak-ng") -> None:
    """espeak-ng → 8 kHz 16-bit mono WAV at `target` (written atomically)."""
    from hotline.recordings.audio import AudioSegment

    binary = shutil.which(espeak)
    if binary is None:
        raise PromptBuildError("espeak-ng не найден: установите пакет espeak-ng")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "tts.wav"
        done = subprocess.run(
            [binary, "-v", VOICE, "-s", str(SPEED_WPM), "-w", str(raw), text],
            capture_output=True, text=True, timeout=60,
        )
        if done.returncode != 0 or not raw.exists():
            raise PromptBuildError(f"espeak-ng: {done.stderr.strip()[:200]}")
        with open(raw, "rb") as handle:  # pydub leaves a path's file open
            audio = AudioSegment.from_wav(handle).set_channels(1).set_sample_width(2)
        audio = audio.set_frame_rate(SAMPLE_RATE)
        partial = target.with_suffix(".part")
        audio.export(partial, format="wav").close()  # export returns the open file
        partial.replace(target)


def build(texts: Mapping[str, str], directory: Path, *, force: bool = False,
          only: Iterable[str] | None = None) -> BuildReport:
    """Synthesise missing or changed prompts; the manifest records what each file says."""
    todo = sorted(texts) if force else stale_prompts(texts, directory)
    if only is not None:
        wanted = set(only)
        todo = [pid for pid in todo if pid in wanted]
    manifest = _manifest(directory)
    for pid in todo:
        synthesise(texts[pid], directory / f"{pid}.wav")
        manifest[pid] = fingerprint(texts[pid])
    directory.mkdir(parents=True, exist_ok=True)
    kept = {pid: manifest[pid] for pid in sorted(manifest) if pid in texts}
    (directory / MANIFEST).write_text(json.dumps(kept, ensure_ascii=False, indent=1) + "\n",
                                      encoding="utf-8")
    return BuildReport(
        built=tuple(todo),
        unchanged=len(texts) - len(todo),
        stale=tuple(stale_prompts(texts, directory)),
        orphans=tuple(orphan_prompts(texts, directory)),
    )
