"""Service configuration: `config/hotline.toml`, read and validated once at start-up.

Nothing here reads the environment at import time: `load_settings()` takes the environment
as an argument so tests can pass their own. A wrong file raises `ConfigError` naming the
file, the key and the reason, which the CLI prints as one line. Reasons are in Russian: the
validators here write their own, `hotline.config_errors` rewrites pydantic's and tomllib's.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from datetime import time
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from hotline.config_errors import error_key, pydantic_reason, toml_reason
from journal.evaluations import DEFAULT_CRITERIA
from journal.os_errors import os_reason

DEFAULT_CONFIG_PATH = Path("config/hotline.toml")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HOURS_RE = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")


class ConfigError(Exception):
    """The configuration file cannot be used; the message names file, key and reason."""

    # What the file is, in the one line the CLI prints: «конфигурация <file>: <key>: <reason>».
    subject = "конфигурация"

    def __init__(self, path: Path | str, key: str, reason: str) -> None:
        super().__init__(f"{path}: {key}: {reason}")
        self.path = str(path)
        self.key = key
        self.reason = reason


def _known_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"неизвестный часовой пояс {value!r} (нужно имя из базы часовых поясов, "
                         "например 'Asia/Barnaul')") from exc
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WorkingHours(_Strict):
    """Operator hours of one weekday, e.g. "08:30-17:30" (local time of the line)."""

    start: time
    end: time

    @classmethod
    def parse(cls, text: str) -> WorkingHours:
        match = _HOURS_RE.match(text.strip())
        if not match:
            raise ValueError(f"нужны часы вида ЧЧ:ММ-ЧЧ:ММ, например '08:30-17:30' (указано {text!r})")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
            raise ValueError(f"такого времени суток нет (указано {text!r})")
        start, end = time(h1, m1), time(h2, m2)
        if end <= start:
            raise ValueError(f"конец должен быть позже начала (указано {text!r})")
        return cls(start=start, end=end)


class ServiceSettings(_Strict):
    database_url: str = "sqlite+aiosqlite:///var/hotline.sqlite3"
    recordings_dir: Path = Path("recordings")
    calendar_dir: Path = Path("config/calendar")
    spool_dir: Path = Path("var/spool")
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8080, ge=1, le=65535)
    # The browser reaches the service over HTTPS (directly or via a proxy): cookies are Secure.
    secure_cookies: bool = False
    roll_due_dates_to_working_day: bool = False
    # The region's time zone: the calendar days of 59-ФЗ deadlines and card years.
    timezone: str = "Asia/Barnaul"
    # The scrape token: `Authorization: Bearer <token>` opens /metrics and the details of
    # /healthz (the PBX's host and port, the writer's state) to Prometheus; signed-in
    # administrators see them too. Empty: administrators only. HOTLINE_METRICS_TOKEN.
    metrics_token: str = Field(default="", max_length=200)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return _known_zone(value)


class AmiSettings(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(default=5038, ge=1, le=65535)
    user: str = "hotline"
    secret: str = "hotline"
    ping_interval: float = Field(default=10.0, gt=0)
    action_timeout: float = Field(default=5.0, gt=0)
    reconnect_min_delay: float = Field(default=0.5, gt=0)
    reconnect_max_delay: float = Field(default=30.0, gt=0)


MAIN_PBX = "main"
MAIN_PBX_TITLE = "Основная АТС"


class PbxSettings(AmiSettings):
    """One PBX (АТС) of several (`[[pbx]]`): a site or a region sharing the journal. Its short
    `name` goes into its call keys, its lock (`pbx:<name>`) and the API; people see `title`."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")
    title: str = Field(min_length=1, max_length=100)
    # Its monitor spool as mounted on this host (default: `[recordings] pbx_dir`). Two PBXs
    # writing into one folder may overwrite each other's files: their uniqueids repeat.
    monitor_dir: Path | None = None


class RecordingsSettings(_Strict):
    """Call recordings (записи разговоров): where the PBX writes them, how they are stored, kept
    and checked. The stored copies live in `service.recordings_dir`."""

    # Where Asterisk's MixMonitor and Record() write (its monitor spool); the simulator shares it.
    pbx_dir: Path = Path("var/pbx-spool")
    format: Literal["ogg", "mp3"] = "ogg"
    keep_wav: bool = False
    ffmpeg: str = "ffmpeg"
    audio_retention_days: int = Field(default=1095, ge=1)
    card_retention_years: int = Field(default=5, ge=1)
    check_interval_minutes: float = Field(default=60.0, gt=0)
    retention_interval_minutes: float = Field(default=1440.0, gt=0)
    # A recording quieter than this share of its length is flagged "silent".
    silent_ratio: float = Field(default=0.98, gt=0, le=1)
    # A file in the PBX spool with no recording in the journal is an orphan after this long.
    orphan_grace_minutes: float = Field(default=10.0, ge=0)
    workers: int = Field(default=2, ge=1, le=64)
    # A recording that could not be stored (full disk, corrupt file) is tried again after
    # this many seconds, doubling each time up to an hour.
    retry_seconds: float = Field(default=30.0, gt=0)


class SurveySettings(_Strict):
    """The outbound survey calls (hotline.surveys.service): how often and how many times to try."""

    max_attempts: int = Field(default=3, ge=1, le=10)
    retry_minutes: float = Field(default=60.0, gt=0)
    # How often the survey queue is looked at (schedule new tasks, dial the due ones).
    interval_seconds: float = Field(default=60.0, gt=0)


class ReportSettings(_Strict):
    """The morning deadline digest (hotline.reports.digest)."""

    # Built at this local time (service.timezone) on each working day of the production calendar.
    digest_time: time = time(8, 0)
    # Open cards due within this many days are listed with the overdue ones.
    digest_within_days: int = Field(default=3, ge=0, le=60)


class EvaluationCriterion(_Strict):
    """One line of the operator evaluation sheet: a stable code, its Russian title, the top
    score (scores run 0..max_score)."""

    code: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")
    title: str = Field(min_length=1, max_length=300)
    max_score: int = Field(default=2, ge=1, le=100)


def _default_criteria() -> tuple[EvaluationCriterion, ...]:
    return tuple(EvaluationCriterion(code=c.code, title=c.title, max_score=c.max_score)
                 for c in DEFAULT_CRITERIA)


class EvaluationSettings(_Strict):
    """The operator evaluation sheet's criteria (journal.evaluations); codes are kept on each
    stored score, so renaming a title is safe and a removed code stays in old sheets."""

    criteria: tuple[EvaluationCriterion, ...] = Field(default_factory=_default_criteria,
                                                      min_length=1)

    @field_validator("criteria")
    @classmethod
    def _unique(cls, value: tuple[EvaluationCriterion, ...]) -> tuple[EvaluationCriterion, ...]:
        _no_repeats([c.code for c in value], "значение code")
        return value


class AsteriskSettings(_Strict):
    """What config/asterisk/ is rendered from besides organizations and lines."""

    # Networks allowed to log in to AMI (manager.conf permit), IPv4 CIDR.
    ami_permit: tuple[str, ...] = ("127.0.0.1/32",)
    # Where the dialplan finds this service's FastAGI server (the ENV(HOTLINE_AGI_HOST) of
    # the Asterisk process wins when set).
    agi_host: str = Field(default="127.0.0.1", pattern=r"^[A-Za-z0-9_.:-]+$")
    agi_port: int = Field(default=4573, ge=1, le=65535)
    # Serve the electronic secretary over FastAGI on agi_bind:agi_port (off: the PBX's
    # plain-dialplan secretary takes messages), with the scripts of ivr_scripts_dir.
    agi_serve: bool = False
    # The PBX's network only: loopback unless the PBX runs elsewhere (HOTLINE_AGI_BIND).
    agi_bind: str = Field(default="127.0.0.1", pattern=r"^[A-Za-z0-9_.:-]+$")
    # The shared secret the dialplan passes as the AGI script's first argument
    # (`${ENV(HOTLINE_AGI_SECRET)}` of the Asterisk process; HOTLINE_AGI_SECRET here, never in
    # a committed file). Without it only loopback peers are served.
    agi_secret: str = Field(default="", max_length=200)
    ivr_scripts_dir: Path = Path("ivr_scripts")
    # The provider's SIP trunk that brings the 8-800 numbers (address as the provider gives it).
    trunk_host: str = Field(default="192.0.2.10", pattern=r"^[A-Za-z0-9_.-]+$")
    trunk_port: int = Field(default=5060, ge=1, le=65535)
    # How long a caller waits in a queue before the electronic secretary takes a message.
    queue_wait: int = Field(default=300, ge=10, le=3600)
    rtp_start: int = Field(default=10000, ge=1024, le=65535)
    rtp_end: int = Field(default=10099, ge=1024, le=65535)

    @field_validator("ami_permit")
    @classmethod
    def _networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        import ipaddress

        for text in value:
            try:
                ipaddress.IPv4Network(text)
            except ValueError as exc:
                raise ValueError(f"нужен адрес сети с длиной маски, например '192.168.0.0/24' "
                                 f"(указано {text!r})") from exc
        return value

    @model_validator(mode="after")
    def _rtp_range(self) -> AsteriskSettings:
        if self.rtp_end <= self.rtp_start:
            raise ValueError("значение rtp_end должно быть больше rtp_start")
        return self


class AlertSettings(_Strict):
    """Alerts on the board and the wallboard (`hotline.alerts`), each raised past its threshold
    and cleared only past a gentler one (hysteresis) held `clear_after_seconds`, so that a
    figure hovering at the line does not make the banner blink."""

    # The longest wait of a line's callers in its queue, seconds: raised above, cleared below.
    long_wait_seconds: int = Field(default=120, ge=5, le=3600)
    long_wait_clear_seconds: int = Field(default=90, ge=0, le=3600)
    # A line's service level over the last 15 minutes, percent: raised under, cleared at or
    # over; judged only on at least `service_level_min_calls` calls of those 15 minutes.
    service_level_percent: float = Field(default=80, ge=0, le=100)
    service_level_clear_percent: float = Field(default=85, ge=0, le=100)
    service_level_min_calls: int = Field(default=5, ge=1, le=1000)
    # A line in operator mode with no operator in its queue (ready or talking) this long.
    no_operator_seconds: int = Field(default=60, ge=0, le=3600)
    # A callback (обратный звонок) past its due time, per organization.
    callback_overdue: bool = True
    # The AMI link to the PBX down this long.
    pbx_down_seconds: int = Field(default=15, ge=0, le=3600)
    # A cleared condition must stay cleared this long before the alert is.
    clear_after_seconds: int = Field(default=30, ge=0, le=3600)
    # How often the journal is asked for callbacks due and overdue (one small query).
    callbacks_interval_seconds: float = Field(default=30.0, ge=1, le=3600)

    @model_validator(mode="after")
    def _hysteresis(self) -> AlertSettings:
        if self.long_wait_clear_seconds > self.long_wait_seconds:
            raise ValueError("значение long_wait_clear_seconds не должно быть больше long_wait_seconds")
        if self.service_level_clear_percent < self.service_level_percent:
            raise ValueError("значение service_level_clear_percent не должно быть меньше "
                             "service_level_percent")
        return self


class Organization(_Strict):
    """The fund (ТФОМС) or an insurer (СМО) answering its own 8-800 line."""

    code: str = Field(pattern=r"^[a-z][a-z0-9_-]{1,31}$")
    kind: Literal["fund", "insurer"]
    name: str = Field(min_length=1)
    level1_queue: str = Field(pattern=r"^[A-Za-z0-9_-]+$")
    level2_queue: str = Field(pattern=r"^[A-Za-z0-9_-]+$")
    level2_extension: str = Field(pattern=r"^\d{2,8}$")
    # PJSIP endpoints of the organization's operator phones, static members of its queues
    # (config/asterisk/ is rendered from them by `hotline asterisk render`).
    level1_phones: tuple[str, ...] = ()
    level2_phones: tuple[str, ...] = ()
    # PJSIP endpoints of the organization's supervisors' phones (the administrator's too, in
    # the fund): not queue members; they ring when their owner listens to a live call
    # (ChanSpy, `hotline.supervision`).
    supervisor_phones: tuple[str, ...] = ()
    # Surveys of citizens on the results (issue #6): "off", an automatic IVR call ("ivr"), or a
    # task for an operator ("operator"), after each card is done.
    survey: Literal["off", "ivr", "operator"] = "off"
    # The insurer's code in the register of insured persons (РС ЕРЗЛ, column «СМО»); the
    # organization's own `code` is matched too.
    register_code: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,32}$")
    # The PBX (`[[pbx]] name`) the organization's phones are registered on and its queues
    # live on; default the first (or only) PBX.
    pbx: str | None = None

    @property
    def interfaces(self) -> frozenset[str]:
        """The organization's phones as the PBX names them ("PJSIP/op101"): the only
        interfaces its accounts may be bound to (a pop goes to whoever sits at the phone)."""
        return frozenset(f"PJSIP/{p}" for p in self.phones)

    @property
    def phones(self) -> tuple[str, ...]:
        """Every PJSIP endpoint of the organization: operators' and supervisors' phones."""
        return (*self.level1_phones, *self.level2_phones, *self.supervisor_phones)

    @field_validator("level1_phones", "level2_phones", "supervisor_phones")
    @classmethod
    def _phone_names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for phone in value:
            if phone == "trunk":
                raise ValueError(f"имя телефона {phone!r} занято: так называется транк оператора связи")
            if not re.match(r"^[A-Za-z][A-Za-z0-9_-]{0,39}$", phone):
                raise ValueError(f"имя телефона {phone!r} не подходит: нужно до 40 символов — латинские "
                                 "буквы, цифры, «_» и «-», первый символ — буква")
        return value


class QueueAnnouncements(_Strict):
    """What a caller waiting in the line's level-1 queue hears (app_queue's announcements with
    the project's Russian prompts, config/asterisk/queues.conf): the position and the expected
    wait every `every_seconds` (0: never), and after `callback_after` seconds in the queue the
    offer to press 1 and be called back (0: not offered). A caller who is next while an
    operator is free hears nothing: app_queue announces only while the caller really waits."""

    every_seconds: int = Field(default=60, ge=0, le=900)
    position: bool = True
    # Above this position the caller hears «звонков в очереди больше, чем N» (2..20: the
    # numbers app_queue says in the neuter form read right up to twenty).
    position_limit: int = Field(default=10, ge=2, le=20)
    holdtime: bool = True
    callback_after: int = Field(default=60, ge=0, le=1800)


class Line(_Strict):
    """One free 8-800 number, its organization, time zone and weekly operator hours."""

    number: str = Field(pattern=r"^8800\d{7}$")
    organization: str
    timezone: str = "Asia/Barnaul"
    around_the_clock: bool = False
    hours: dict[str, WorkingHours] = Field(default_factory=dict)
    # Service level (уровень обслуживания): the share of calls answered within this many
    # seconds of waiting in the queue.
    service_level_seconds: int = Field(default=20, ge=1, le=600)
    queue: QueueAnnouncements = Field(default_factory=QueueAnnouncements)
    # The PBX (`[[pbx]] name`) the 8-800 number comes in on: its AstDB holds the line's mode;
    # default the organization's PBX.
    pbx: str | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return _known_zone(value)

    @field_validator("hours", mode="before")
    @classmethod
    def _parse_hours(cls, value: object) -> object:
        if not isinstance(value, Mapping):
            return value
        parsed = {}
        for day, text in value.items():
            if day not in WEEKDAYS:
                raise ValueError(f"неизвестный день недели {day!r}; допустимы: {', '.join(WEEKDAYS)}")
            if not isinstance(text, str | Mapping):
                # Else pydantic would ask for a table: a string is what people write here.
                raise ValueError(f"нужны часы вида ЧЧ:ММ-ЧЧ:ММ, например '08:30-17:30' "
                                 f"(указано {text!r})")
            parsed[day] = WorkingHours.parse(text) if isinstance(text, str) else text
        return parsed

    @model_validator(mode="after")
    def _has_hours(self) -> Line:
        if not self.around_the_clock and not self.hours:
            raise ValueError("для линии, работающей не круглосуточно, нужна таблица [lines.hours] "
                             "с часами операторов")
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class Settings(_Strict):
    """Everything the service needs, validated."""

    service: ServiceSettings = Field(default_factory=ServiceSettings)
    # One PBX: `[ami]` (the PBX named "main"); several: `[[pbx]]` tables instead.
    ami: AmiSettings = Field(default_factory=AmiSettings)
    pbx: tuple[PbxSettings, ...] = ()
    asterisk: AsteriskSettings = Field(default_factory=AsteriskSettings)
    recordings: RecordingsSettings = Field(default_factory=RecordingsSettings)
    surveys: SurveySettings = Field(default_factory=SurveySettings)
    reports: ReportSettings = Field(default_factory=ReportSettings)
    evaluation: EvaluationSettings = Field(default_factory=EvaluationSettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    organizations: tuple[Organization, ...] = Field(min_length=1)
    lines: tuple[Line, ...] = Field(min_length=1)
    source: str = "<memory>"

    @model_validator(mode="before")
    @classmethod
    def _one_pbx_form(cls, raw: object) -> object:
        if isinstance(raw, Mapping) and "ami" in raw and "pbx" in raw:
            raise ValueError("pbx: заданы и [ami], и [[pbx]]; перечислите все АТС в [[pbx]]"
                             " (с host, port, user и secret), а [ami] удалите")
        return raw

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        codes = [org.code for org in self.organizations]
        _no_repeats(codes, "значение code", section="organizations")
        _no_repeats([line.number for line in self.lines], "значение number", section="lines")
        queues = [q for org in self.organizations for q in (org.level1_queue, org.level2_queue)]
        _no_repeats(queues, "очередь", section="organizations")
        phones = [p for org in self.organizations for p in org.phones]
        _no_repeats(phones, "телефон", section="organizations")
        _no_repeats([org.level2_extension for org in self.organizations], "значение level2_extension",
                    section="organizations")
        for i, line in enumerate(self.lines):
            if line.organization not in codes:
                raise ValueError(f"lines.{i}.organization: неизвестная организация "
                                 f"{line.organization!r}; известные: {_listed(codes)}")
        _no_repeats([p.name for p in self.pbx], "значение name", section="pbx")
        names = [p.name for p in self.pbxs]
        named: list[tuple[str, str | None]] = [
            *((f"organizations.{i}.pbx", org.pbx) for i, org in enumerate(self.organizations)),
            *((f"lines.{i}.pbx", line.pbx) for i, line in enumerate(self.lines))]
        for key, pbx in named:
            if pbx is not None and pbx not in names:
                raise ValueError(f"{key}: неизвестная АТС {pbx!r}; известные: {_listed(names)}")
        return self

    @property
    def pbxs(self) -> tuple[PbxSettings, ...]:
        """Every PBX, the first the default one: the `[[pbx]]` tables, or the one `[ami]`
        as the PBX named "main"."""
        if self.pbx:
            return self.pbx
        return (PbxSettings(name=MAIN_PBX, title=MAIN_PBX_TITLE, **self.ami.model_dump()),)

    def pbx_settings(self, name: str) -> PbxSettings:
        for pbx in self.pbxs:
            if pbx.name == name:
                return pbx
        raise KeyError(name)

    def pbx_of_organization(self, code: str) -> str:
        """The PBX the organization's phones and queues are on."""
        return self.organization(code).pbx or self.pbxs[0].name

    def pbx_of_line(self, number: str) -> str:
        """The PBX the 8-800 number comes in on (its AstDB holds the line's mode)."""
        line = self.line(number)
        return line.pbx or self.pbx_of_organization(line.organization)

    def pbx_of_phone(self, interface: str | None) -> str | None:
        """The PBX an operator's or supervisor's phone ("PJSIP/op101") is registered on, or
        None for a phone of no organization."""
        org = self.organization_of_phone(interface)
        return self.pbx_of_organization(org) if org is not None else None

    def pbx_title(self, name: str | None) -> str:
        """How people see a PBX (its title; the name only for one no longer configured)."""
        for pbx in self.pbxs:
            if pbx.name == name:
                return pbx.title
        return name or ""

    def organization(self, code: str) -> Organization:
        for org in self.organizations:
            if org.code == code:
                return org
        raise KeyError(code)

    def organization_of_phone(self, interface: str | None) -> str | None:
        """The code of the organization whose phone `interface` is ("PJSIP/op101",
        compared caselessly as Asterisk does), or None for a phone of none."""
        if not interface:
            return None
        wanted = interface.lower()
        for org in self.organizations:
            if any(i.lower() == wanted for i in org.interfaces):
                return org.code
        return None

    def line(self, number: str) -> Line:
        for line in self.lines:
            if line.number == number:
                return line
        raise KeyError(number)


def _no_repeats(values: list[str], what: str, *, section: str | None = None) -> None:
    """Refuse a value given twice. `section` starts the message of a check of the whole file,
    which pydantic cannot place at a key (see `parse_settings`)."""
    seen: set[str] = set()
    for value in values:
        if value in seen:
            where = f"{section}: " if section else ""
            raise ValueError(f"{where}{what} {value!r} встречается дважды")
        seen.add(value)


def _listed(values: list[str]) -> str:
    return ", ".join(repr(value) for value in values)


_ENV_OVERRIDES = {
    "HOTLINE_DATABASE_URL": ("service", "database_url"),
    "HOTLINE_AMI_HOST": ("ami", "host"),
    "HOTLINE_AMI_PORT": ("ami", "port"),
    "HOTLINE_AMI_USER": ("ami", "user"),
    "HOTLINE_AMI_SECRET": ("ami", "secret"),
    "HOTLINE_AGI_BIND": ("asterisk", "agi_bind"),
    "HOTLINE_AGI_SECRET": ("asterisk", "agi_secret"),
    "HOTLINE_METRICS_TOKEN": ("service", "metrics_token"),
}


def config_path(environ: Mapping[str, str]) -> Path:
    return Path(environ.get("HOTLINE_CONFIG") or DEFAULT_CONFIG_PATH)


def load_settings(
    path: Path | str | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Read the TOML file, apply environment overrides, validate. Raises ConfigError."""
    environ = os.environ if environ is None else environ
    path = Path(path) if path is not None else config_path(environ)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(path, "-", "файл не найден") from None
    except OSError as exc:
        raise ConfigError(path, "-", f"не удаётся прочитать файл: {os_reason(exc)}") from None
    except UnicodeDecodeError:
        raise ConfigError(path, "-", "файл сохранён не в кодировке UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, "-", toml_reason(exc)) from None
    for env_name, (section, key) in _ENV_OVERRIDES.items():
        if environ.get(env_name):
            if section == "ami" and isinstance(raw.get("pbx"), list) and raw["pbx"]:
                # Several PBXs: HOTLINE_AMI_* set the first one's link.
                raw["pbx"][0][key] = environ[env_name]
                continue
            raw.setdefault(section, {})[key] = environ[env_name]
    return parse_settings(raw, source=str(path))


def parse_settings(raw: Mapping[str, object], source: str = "<memory>") -> Settings:
    """Validate an already-parsed mapping (used by tests and by `load_settings`)."""
    try:
        return Settings.model_validate({**raw, "source": source})
    except ValidationError as exc:
        error = exc.errors()[0]
        key = error_key(error)
        reason = pydantic_reason(error)
        if key in ("source", "-") and ": " in reason:
            # Cross-field checks name their key at the start of the message.
            key, reason = reason.split(": ", 1)
        raise ConfigError(source, key, reason) from None
