"""The electronic journal's tables (SQLAlchemy 2 declarative models).

No telephony knowledge lives here: a call is what the journal must remember about it (who
called which line, when, who answered, transfers, recordings), whatever PBX produced it.
Nothing is ever deleted: cards are cancelled, history and audit rows are append-only.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from journal.types import BigId, Json, UTCDateTime

# Stable constraint names, so Alembic migrations are reproducible on every backend.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: Json}


class OrgKind(StrEnum):
    FUND = "fund"  # ТФОМС
    INSURER = "insurer"  # СМО


class Role(StrEnum):
    OPERATOR = "operator"  # ОП1/ОП2 of the fund, СП1-СП3 of an insurer
    ADMIN = "admin"  # administrator of the contact center (the fund): sees and closes everything
    SUPERVISOR = "supervisor"  # head of one organization's operators: its cards, calls, accounts
    SYSADMIN = "sysadmin"  # users, dictionaries, calendar; no personal data (cards, calls)
    WALLBOARD = "wallboard"  # the operators' room screen: live figures and alerts, read-only


class CardStatus(StrEnum):
    DRAFT = "draft"
    IN_WORK = "in_work"  # shown yellow
    DONE = "done"  # shown white
    CLOSED = "closed"  # read-only forever
    CANCELLED = "cancelled"  # created by mistake; kept with the reason


class Channel(StrEnum):
    """How the appeal reached us (канал поступления)."""

    HOTLINE = "hotline"
    SECRETARY = "secretary"
    RECEPTION = "reception"
    POST = "post"
    EMAIL = "email"
    WEBSITE = "website"
    GOSUSLUGI = "gosuslugi"
    FORWARDED = "forwarded"


class AppealForm(StrEnum):
    ORAL = "oral"
    WRITTEN = "written"


class AppealType(StrEnum):
    """Form ПГ types: 2 жалоба, 3 заявление, 4 консультация, 5 предложение."""

    COMPLAINT = "complaint"
    STATEMENT = "statement"
    CONSULTATION = "consultation"
    PROPOSAL = "proposal"


class OralOutcome(StrEnum):
    """How an oral appeal ended (DOMAIN.md, "Result")."""

    ON_THE_SPOT = "on_the_spot"
    BY_LEVEL2 = "by_level2"
    BY_CALLBACK = "by_callback"
    ADVISED_TO_WRITE = "advised_to_write"
    REDIRECTED = "redirected"


class TopicKind(StrEnum):
    TOPIC = "topic"  # table 1.1: the subject of an appeal
    COMPLAINT_REASON = "complaint_reason"  # table 1.2: reasons of a complaint


class CallbackStatus(StrEnum):
    PENDING = "pending"
    DIALING = "dialing"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class SurveyStatus(StrEnum):
    PENDING = "pending"  # waiting for its next attempt (or, mode operator, for an operator)
    DIALING = "dialing"  # a call placed; the rating or the retry time decides what follows
    DONE = "done"  # a rating stored
    FAILED = "failed"  # no rating after the last attempt
    REFUSED = "refused"  # the citizen answered and gave no rating


class SurveyMode(StrEnum):
    IVR = "ivr"
    OPERATOR = "operator"


class Organization(Base):
    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(300))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Line(Base):
    """A free 8-800 number of an organization."""

    __tablename__ = "lines"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    timezone: Mapped[str] = mapped_column(String(64))
    around_the_clock: Mapped[bool] = mapped_column(Boolean, default=False)

    organization: Mapped[Organization] = relationship(lazy="raise")


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    level: Mapped[int | None] = mapped_column(Integer)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    # The operator's phone as the PBX names it, e.g. "PJSIP/op101".
    interface: Mapped[str | None] = mapped_column(String(80), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    created_at: Mapped[datetime]

    organization: Mapped[Organization] = relationship(lazy="raise")

    __table_args__ = (CheckConstraint("level IS NULL OR level BETWEEN 1 AND 3", name="level"),)


class WebSessionRow(Base):
    """A signed-in browser session. Kept in the database so that every service instance
    behind one address knows it and a restart signs nobody out; the cookie's token is stored
    only as its SHA-256, so a copy of this table opens no session."""

    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    csrf: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime]
    last_seen: Mapped[datetime] = mapped_column(index=True)


class LiveMessageRow(Base):
    """A live message too big for a PostgreSQL NOTIFY (8000 bytes): the sending instance
    writes it here and notifies its id; the others read it (several instances, issue #20)."""

    __tablename__ = "live_messages"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(index=True)
    payload: Mapped[str] = mapped_column(Text)


class Card(Base):
    """A registration-control card (РКК): one citizen's appeal."""

    __tablename__ = "cards"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # Registration
    number: Mapped[str] = mapped_column(String(40))
    year: Mapped[int] = mapped_column(Integer)
    sequence: Mapped[int] = mapped_column(Integer)
    receiving_organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    # The organization that has the card under consideration now (moves when forwarded).
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    received_at: Mapped[datetime]
    registered_at: Mapped[datetime]
    registered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Channel and form
    channel: Mapped[str] = mapped_column(String(16))
    form: Mapped[str] = mapped_column(String(8))
    # The PBX (АТС: a site) whose call the card was registered for; none for a written appeal.
    pbx: Mapped[str | None] = mapped_column(String(32))
    forwarded_from_body: Mapped[str | None] = mapped_column(String(300))
    forwarded_letter_number: Mapped[str | None] = mapped_column(String(64))
    forwarded_letter_date: Mapped[date | None] = mapped_column(Date)
    # Applicant (personal data, 152-ФЗ)
    applicant_name: Mapped[str | None] = mapped_column(String(300))
    applicant_birth_date: Mapped[date | None] = mapped_column(Date)
    applicant_policy: Mapped[str | None] = mapped_column(String(16))  # ЕНП, 16 digits
    applicant_address: Mapped[str | None] = mapped_column(Text)
    applicant_phone: Mapped[str | None] = mapped_column(String(32), index=True)
    applicant_email: Mapped[str | None] = mapped_column(String(254))
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    representative: Mapped[str | None] = mapped_column(String(300))
    # Subject
    insurer_concerned_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    medical_org_concerned: Mapped[str | None] = mapped_column(String(300))
    appeal_type: Mapped[str | None] = mapped_column(String(16))
    topic_code: Mapped[str | None] = mapped_column(String(16))
    content: Mapped[str | None] = mapped_column(Text)
    # Processing
    responsible_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    responsible_level: Mapped[int | None] = mapped_column(Integer)
    due_date: Mapped[date | None] = mapped_column(Date)
    extended_at: Mapped[datetime | None]
    extended_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    extension_old_due: Mapped[date | None] = mapped_column(Date)
    extension_reason: Mapped[str | None] = mapped_column(Text)
    deferred_contact: Mapped[str | None] = mapped_column(Text)
    callback_due_at: Mapped[datetime | None]
    forwarded_at: Mapped[datetime | None]
    # Result
    measures_taken: Mapped[str | None] = mapped_column(Text)
    justified: Mapped[bool | None] = mapped_column(Boolean)
    satisfied: Mapped[bool | None] = mapped_column(Boolean)
    compensation_source: Mapped[str | None] = mapped_column(String(200))
    compensation_sum: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    answered_on: Mapped[date | None] = mapped_column(Date)
    oral_outcome: Mapped[str | None] = mapped_column(String(24))
    # Status
    status: Mapped[str] = mapped_column(String(16), index=True)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None]
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # Optimistic locking: two operators saving the same card cannot overwrite each other.
    version: Mapped[int] = mapped_column(Integer, default=1)

    complaint_reasons: Mapped[list[CardComplaintReason]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="CardComplaintReason.code"
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        UniqueConstraint("receiving_organization_id", "year", "sequence", name="uq_cards_seq"),
        UniqueConstraint("number", name="uq_cards_number"),
        Index("ix_cards_received_at", "received_at"),
        # Reports: form ПГ of one organization for a period; deadlines of open cards.
        Index("ix_cards_receiving_received", "receiving_organization_id", "received_at"),
        Index("ix_cards_status_due", "status", "due_date"),
    )


class CardComplaintReason(Base):
    """One reason of a complaint (form ПГ table 1.2); a complaint may carry several."""

    __tablename__ = "card_complaint_reasons"

    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"), primary_key=True)
    code: Mapped[str] = mapped_column(String(16), primary_key=True)


class CardNumberCounter(Base):
    """The last card sequence per organization and year, taken under a row lock."""

    __tablename__ = "card_number_counters"

    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class CardHistory(Base):
    """Append-only: who changed which fields of a card, when, from what to what."""

    __tablename__ = "card_history"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"), index=True)
    at: Mapped[datetime]
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(32))
    # {"field": [old, new], ...}
    changes: Mapped[dict[str, Any]]
    comment: Mapped[str | None] = mapped_column(Text)


class Call(Base):
    """One telephone call as the PBX reported it, across transfers."""

    __tablename__ = "calls"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # The PBX's stable call key (the HOTLINE_ID tag, or the first linked id).
    # The key names its PBX but the one named "main"'s ("omsk-2:1790000000.7"): unique across
    # the PBXs that share the journal.
    pbx_call_id: Mapped[str] = mapped_column(String(64), unique=True)
    # Which PBX (АТС: a site, or a region) took the call: its `[[pbx]] name`.
    pbx: Mapped[str] = mapped_column(String(32), default="main", server_default="main")
    direction: Mapped[str] = mapped_column(String(4))  # in | out
    line_number: Mapped[str | None] = mapped_column(String(20), index=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    caller_number: Mapped[str | None] = mapped_column(String(32), index=True)
    caller_name: Mapped[str | None] = mapped_column(String(200))
    started_at: Mapped[datetime] = mapped_column(index=True)
    answered_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    queue_wait_seconds: Mapped[int | None] = mapped_column(Integer)
    talk_seconds: Mapped[int | None] = mapped_column(Integer)
    # answered | abandoned | secretary | callback | interrupted | in_progress
    outcome: Mapped[str] = mapped_column(String(16))
    end_cause: Mapped[str | None] = mapped_column(String(64))
    card_id: Mapped[int | None] = mapped_column(ForeignKey("cards.id"), index=True)
    # The first operator who answered, for the journal's "operator" filter.
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answered_interface: Mapped[str | None] = mapped_column(String(80))

    # Call statistics of one organization for a period, and the calls still going in it
    # (journal.reports.calls; a partial index: a handful of rows at any moment).
    __table_args__ = (
        Index("ix_calls_org_started", "organization_id", "started_at"),
        Index("ix_calls_pbx_started", "pbx", "started_at"),
        Index("ix_calls_in_progress", "started_at", postgresql_where=text("outcome = 'in_progress'"),
              sqlite_where=text("outcome = 'in_progress'")),
    )


class CallEvent(Base):
    """The call's timeline: arrived, queued, ringing, answered, transferred, ended..."""

    __tablename__ = "call_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), index=True)
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(32))
    interface: Mapped[str | None] = mapped_column(String(80))
    data: Mapped[dict[str, Any]]
    # Makes writing the same PBX event twice harmless (replay after an outage).
    dedup_key: Mapped[str] = mapped_column(String(200))

    __table_args__ = (UniqueConstraint("call_id", "dedup_key", name="uq_call_events_dedup"),)


class CallTransfer(Base):
    __tablename__ = "call_transfers"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), index=True)
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(16))  # blind | attended
    from_interface: Mapped[str | None] = mapped_column(String(80))
    to_queue: Mapped[str | None] = mapped_column(String(64))
    to_interface: Mapped[str | None] = mapped_column(String(80))

    # Call statistics: the transfers of a period's calls (journal.reports.calls).
    __table_args__ = (Index("ix_call_transfers_at", "at"),)


class _ReportKey:
    """The report key of a rolled-up row: the line, the organization, the operator, the
    local hour and weekday, in or out of working hours, the phone. Columns only: each table
    that mixes it in gets its own copies."""

    line_number: Mapped[str | None] = mapped_column(String(20))
    organization_id: Mapped[int | None] = mapped_column(BigInteger)
    operator_id: Mapped[int | None] = mapped_column(BigInteger)
    hour: Mapped[int] = mapped_column(Integer)
    weekday: Mapped[int] = mapped_column(Integer)
    in_hours: Mapped[bool] = mapped_column(Boolean)
    # The phone that answered with no operator's account credited (migration 0016).
    phone: Mapped[str | None] = mapped_column(String(80))


class _CallSums:
    """The sums of the calls of one report key that the call statistics add up."""

    offered: Mapped[int] = mapped_column(Integer)
    answered: Mapped[int] = mapped_column(Integer)
    abandoned: Mapped[int] = mapped_column(Integer)
    abandoned_wait_sum: Mapped[int] = mapped_column(BigInteger)
    abandoned_wait_n: Mapped[int] = mapped_column(Integer)
    answered_20s: Mapped[int] = mapped_column(Integer)
    answered_60s: Mapped[int] = mapped_column(Integer)
    wait_sum: Mapped[int] = mapped_column(BigInteger)
    wait_n: Mapped[int] = mapped_column(Integer)
    talk_sum: Mapped[int] = mapped_column(BigInteger)
    talk_n: Mapped[int] = mapped_column(Integer)
    transferred_l2: Mapped[int] = mapped_column(Integer)
    secretary: Mapped[int] = mapped_column(Integer)


class _WaitCount:
    """How many answered waits (`n`) lasted `wait` seconds, per key of one report section
    (`dimension`: `key` is the operator, hour or weekday) and per organization and line."""

    dimension: Mapped[str] = mapped_column(String(16))
    organization_id: Mapped[int | None] = mapped_column(BigInteger)
    line_number: Mapped[str | None] = mapped_column(String(20))
    key: Mapped[int | None] = mapped_column(BigInteger)
    in_hours: Mapped[bool] = mapped_column(Boolean)
    # The phone that answered with no operator's account credited (migration 0016).
    phone: Mapped[str | None] = mapped_column(String(80))
    wait: Mapped[int] = mapped_column(Integer)
    n: Mapped[int] = mapped_column(Integer)


class CallRollupDay(Base):
    """A local day of calls rolled up for the call statistics (journal.reports.rollup).

    `fingerprint` is the hash of what the roll-up depended on besides the calls (the lines'
    operator intervals of the day, the level-2 queues, the zone): a report with other inputs
    does not use it. `start_at`/`end_at` are the day's bounds, UTC.
    """

    __tablename__ = "call_rollup_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    start_at: Mapped[datetime]
    end_at: Mapped[datetime]
    fingerprint: Mapped[str] = mapped_column(String(64))
    built_at: Mapped[datetime]


class CallRollup(_ReportKey, _CallSums, Base):
    """One day's incoming calls counted per report key (line, organization, operator, local
    hour and weekday, in or out of working hours): the sums the call statistics add up."""

    __tablename__ = "call_rollup"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)


class CallRollupWait(_WaitCount, Base):
    """One day's answered waits counted per second and per key of one report section
    (`dimension`), per organization: what the exact 90th percentile needs. `key` is the
    operator, hour or weekday; the line and the organization have their own columns."""

    __tablename__ = "call_rollup_waits"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    day: Mapped[date] = mapped_column(Date)

    __table_args__ = (Index("ix_call_rollup_waits_day_dimension", "day", "dimension"),)


class CallRollupMessage(_ReportKey, Base):
    """A secretary message of a rolled-up day with its report keys: the days its card's
    callbacks fall on count it from these rows (CallRollupCallback), and a report from these
    rows the callbacks of its days not rolled up yet."""

    __tablename__ = "call_rollup_messages"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    call_id: Mapped[int] = mapped_column(BigInteger)
    card_id: Mapped[int | None] = mapped_column(BigInteger, index=True)  # migration 0013
    started_at: Mapped[datetime]


class CallRollupCallback(_ReportKey, Base):
    """The callbacks of the secretary messages, rolled up per day like the calls (migration
    0013, journal.reports.calls): a message's callback delay is W(callback) - W(message), W
    being its line's working seconds up to a moment, and each of the two moments is counted
    by the day it falls on, which knows that day's working hours.

    `kind` "message": the called-back messages of `day` (= `message_day`) per report key:
    how many (`n`), how many were called back after their day (`n_after`), and the working
    microseconds of their day before each message (`worked`). `kind` "callback": the
    messages of any `message_day` whose card's first done callback falls on `day`, with
    the working microseconds of `day` before that callback. A report adds the whole days
    of its own period before each moment (journal.reports.calls._callback_sums_query).
    """

    __tablename__ = "call_rollup_callbacks"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(8))
    message_day: Mapped[date] = mapped_column(Date)
    n: Mapped[int] = mapped_column(Integer)
    n_after: Mapped[int] = mapped_column(Integer)
    worked: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (Index("ix_call_rollup_callbacks_day_kind", "day", "kind"),)


class CallRollupMonth(Base):
    """A calendar month of rolled-up days added up once more (journal.reports.calls): a year's
    report reads twelve months' sums and histograms instead of 365 days'.

    `signature` is the hash of the month's days as they were when it was built (each day's
    fingerprint and built_at): a day built again since (a change of its calls, other working
    hours) changes it, and the month is not used until it is built again from its days.
    """

    __tablename__ = "call_rollup_months"

    month: Mapped[date] = mapped_column(Date, primary_key=True)  # its first day
    signature: Mapped[str] = mapped_column(String(64))
    built_at: Mapped[datetime]


class CallRollupMonthSum(_ReportKey, _CallSums, Base):
    """A month's CallRollup rows added up per report key (the day dropped)."""

    __tablename__ = "call_rollup_month_sums"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    month: Mapped[date] = mapped_column(Date, index=True)


class CallRollupMonthWait(_WaitCount, Base):
    """A month's CallRollupWait rows added up per section key and wait (the day dropped)."""

    __tablename__ = "call_rollup_month_waits"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    month: Mapped[date] = mapped_column(Date)

    __table_args__ = (Index("ix_call_rollup_month_waits_month_dimension", "month", "dimension"),)


class CallRollupMark(Base):
    """A change to a call (or its transfers) that started at `started_at`, written by database
    triggers (migration 0007) whatever wrote it: a rolled-up day with a mark is stale. Building
    a day deletes its marks before reading its calls, so a change committed meanwhile leaves
    its mark behind."""

    __tablename__ = "call_rollup_marks"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(index=True)


class Recording(Base):
    """An audio file of a call (or a secretary message), immutable once stored."""

    __tablename__ = "recordings"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id"), index=True)
    card_id: Mapped[int | None] = mapped_column(ForeignKey("cards.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # call | message | callback
    pbx_file: Mapped[str] = mapped_column(String(500))  # as the PBX named it
    stored_path: Mapped[str | None] = mapped_column(String(500))
    format: Mapped[str | None] = mapped_column(String(16))
    duration_seconds: Mapped[float | None]
    silence_ratio: Mapped[float | None]
    size_bytes: Mapped[int | None] = mapped_column(Integer)
    sha256: Mapped[str | None] = mapped_column(String(64))
    # pending | stored | missing | empty | truncated | corrupt | failed | destroyed
    status: Mapped[str] = mapped_column(String(16))
    problem: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    processed_at: Mapped[datetime | None]
    destroyed_at: Mapped[datetime | None]


class Topic(Base):
    """The form ПГ topic dictionary: appeal topics and complaint reasons, dated."""

    __tablename__ = "topics"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    code: Mapped[str] = mapped_column(String(16))
    parent_code: Mapped[str | None] = mapped_column(String(16))
    appeal_type: Mapped[str | None] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(Text)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)

    __table_args__ = (UniqueConstraint("kind", "code", "valid_from", name="uq_topics_code"),)


class AuditEntry(Base):
    """Append-only access log (152-ФЗ): views, changes, exports, playbacks, destructions."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    login: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32), index=True)
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str | None] = mapped_column(String(64))
    remote_addr: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]]

    # "Who opened this card / played this recording": the administrator's commonest question.
    __table_args__ = (Index("ix_audit_log_object", "object_type", "object_id"),)


class CallbackTask(Base):
    """A deferred answer or a secretary message: call the citizen back by `due_at`."""

    __tablename__ = "callback_tasks"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    assigned_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    contact_phone: Mapped[str] = mapped_column(String(32))
    contact_name: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    done_at: Mapped[datetime | None]
    result_call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id"))
    # "queue": the citizen pressed 1 in the queue instead of waiting (issue #19), at asked_at
    # (the moment they left the queue); None for deferred answers and secretary messages.
    origin: Mapped[str | None] = mapped_column(String(16))
    asked_at: Mapped[datetime | None]

    __table_args__ = (
        # The morning digest: callbacks not yet made, by due time.
        Index("ix_callback_tasks_status_due", "status", "due_at"),
        # One pending callback per card, whoever makes it (the secretary's FastAGI and the
        # journal writer may both register the same message at once).
        Index("ux_callback_tasks_pending_card", "card_id", unique=True,
              postgresql_where=text("status = 'pending'"), sqlite_where=text("status = 'pending'")),
        # The roll-up of the callbacks: the done ones of a day (migration 0013).
        Index("ix_callback_tasks_done_at", "done_at",
              postgresql_where=text("status = 'done'"), sqlite_where=text("status = 'done'")),
    )


class SurveyTask(Base):
    """The survey of one done card's applicant on the result: at most one per card, ever."""

    __tablename__ = "survey_tasks"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    mode: Mapped[str] = mapped_column(String(16))
    phone: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    rating: Mapped[int | None] = mapped_column(Integer)
    answered_at: Mapped[datetime | None]
    created_at: Mapped[datetime]

    __table_args__ = (
        # Never twice for one card: scheduling again is a no-op, enforced by the database.
        UniqueConstraint("card_id", name="uq_survey_tasks_card_id"),
        Index("ix_survey_tasks_status_next", "status", "next_attempt_at"),
        CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="rating"),
    )


class Evaluation(Base):
    """The administrator's evaluation sheet of an operator on one call."""

    __tablename__ = "evaluations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), index=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    evaluator_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime]
    total: Mapped[float]
    comment: Mapped[str | None] = mapped_column(Text)

    scores: Mapped[list[EvaluationScore]] = relationship(
        lazy="selectin", cascade="all, delete-orphan"
    )

    # The quality report: the evaluations of a period (journal.reports.quality).
    __table_args__ = (Index("ix_evaluations_at", "at"),)


class EvaluationScore(Base):
    __tablename__ = "evaluation_scores"

    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluations.id"), primary_key=True)
    criterion: Mapped[str] = mapped_column(String(64), primary_key=True)
    score: Mapped[int] = mapped_column(Integer)


class CalendarDay(Base):
    """A day of the production calendar that differs from a plain Mon-Fri week."""

    __tablename__ = "calendar_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    # holiday | day_off | shortened | working_weekend
    kind: Mapped[str] = mapped_column(String(24))
    title: Mapped[str | None] = mapped_column(String(200))
    moved_from: Mapped[date | None] = mapped_column(Date)


class LineMode(Base):
    """Each switch of a line between operator and secretary, with its reason."""

    __tablename__ = "line_modes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    line_number: Mapped[str] = mapped_column(String(20), index=True)
    mode: Mapped[str] = mapped_column(String(16))  # operator | secretary
    at: Mapped[datetime]
    reason_code: Mapped[str] = mapped_column(String(32))
    reason_text: Mapped[str] = mapped_column(String(300))
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class ModeOverride(Base):
    """An administrator's forced mode for a line until a given time."""

    __tablename__ = "mode_overrides"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    line_number: Mapped[str] = mapped_column(String(20), index=True)
    mode: Mapped[str] = mapped_column(String(16))
    until: Mapped[datetime]
    reason: Mapped[str | None] = mapped_column(Text)
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    cancelled_at: Mapped[datetime | None]


class AnswerScript(Base):
    """An approved answer to a typical question, searchable by keyword in the workspace."""

    __tablename__ = "answer_scripts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    title: Mapped[str] = mapped_column(String(300))
    keywords: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text)
    topic_code: Mapped[str | None] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime]


class AlertRecord(Base):
    """An alert of the live board (оповещение): raised when a figure passed its threshold,
    cleared when it came back (`hotline.alerts`). Kept for the reports («Оповещения за
    период»); `organization_id` None for the whole center (the PBX link)."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    scope_kind: Mapped[str] = mapped_column(String(16))  # line | organization | center
    scope_code: Mapped[str] = mapped_column(String(32))
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    value: Mapped[float | None] = mapped_column(Float)
    worst: Mapped[float | None] = mapped_column(Float)
    threshold: Mapped[float | None] = mapped_column(Float)
    raised_at: Mapped[datetime] = mapped_column(index=True)
    cleared_at: Mapped[datetime | None]
    # How it ended: "" while active, "cleared", or "restart" (the service stopped meanwhile).
    cleared_by: Mapped[str] = mapped_column(String(16), default="")


class InsuredPerson(Base):
    """One insured person of the region's register (РС ЕРЗЛ extract), keyed by ЕНП.

    Personal data: read only through `journal.register.lookup` (access rules and audit as
    for cards). The whole table is replaced at each load (`journal.register.replace`)."""

    __tablename__ = "insured_persons"

    enp: Mapped[str] = mapped_column(String(16), primary_key=True)
    full_name: Mapped[str] = mapped_column(String(300))
    birth_date: Mapped[date | None] = mapped_column(Date)
    # The insurer (СМО) as the register codes it: an organization's `register_code` or code.
    insurer_code: Mapped[str] = mapped_column(String(32))
    policy_from: Mapped[date | None] = mapped_column(Date)
    policy_to: Mapped[date | None] = mapped_column(Date)


class RegisterLoad(Base):
    """One load of the register extract: when, from which file, by whom, how many persons."""

    __tablename__ = "register_loads"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    loaded_at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(300))
    loaded_by: Mapped[str] = mapped_column(String(100))
    persons: Mapped[int] = mapped_column(Integer)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
