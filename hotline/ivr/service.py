"""The IVR as the service runs it: FastAGI sessions → scripts → the journal.

`agi://host:4573/secretary` runs the line's secretary script; `/survey` the satisfaction
survey (a call placed by `hotline.surveys.service`; the rating goes to its survey task). The line comes from the channel's `HOTLINE_LINE` (set by the inbound dialplan), the
call from `HOTLINE_ID`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hotline.config import Settings
from hotline.ivr.engine import (
    Channel, LineContext, MessageTaken, Secretary, run_survey, usable_number,
)
from hotline.ivr.fastagi import AgiSession, FastAgiServer
from hotline.ivr.hours import hours_segments
from hotline.ivr.loader import IvrScripts
from hotline.ivr.messages import register_message
from hotline.pbx.tracking.calls import QUEUE_CALLBACK_USER_EVENT
from journal import surveys
from journal.calendar import ProductionCalendar
from journal.cards import CardRules
from journal.db import unit_of_work
from journal.errors import JournalError
from journal.clock import utc_now

log = structlog.get_logger(__name__)



def _int(text: str | None) -> int | None:
    try:
        return int(text) if text else None
    except ValueError:
        return None


class IvrService:
    """Runs one script per AGI session and writes what came of it to the journal."""

    def __init__(
        self,
        settings: Settings,
        scripts: IvrScripts,
        calendar: ProductionCalendar,
        sessions: async_sessionmaker[AsyncSession],
        rules: CardRules,
        *,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.settings = settings
        self.scripts = scripts
        self.calendar = calendar
        self.sessions = sessions
        self.rules = rules
        self.clock = clock
        # Told the organization's id when a callback task appears (the workspaces' live lists).
        self.on_callback: Callable[[int], object] | None = None

    def server(self) -> FastAgiServer:
        agi = self.settings.asterisk
        return FastAgiServer(self.handle, agi.agi_bind, agi.agi_port, secret=agi.agi_secret)

    async def handle(self, session: AgiSession) -> None:
        if session.script == "secretary":
            await self.secretary(session)
        elif session.script == "survey":
            await self.survey(session)
        elif session.script == "queue-callback":
            await self.queue_callback(session)
        else:
            log.warning("unknown agi script", script=session.script)

    async def survey(self, channel: Channel) -> None:
        """The survey call placed by `hotline.surveys.service`: ask, then store the rating on the task
        named by HOTLINE_SURVEY (checked against HOTLINE_SURVEY_CARD)."""
        survey_id = _int(await channel.get_variable("HOTLINE_SURVEY"))
        card_id = _int(await channel.get_variable("HOTLINE_SURVEY_CARD"))
        rating, steps = await run_survey(self.scripts.survey, channel)
        log.info("survey", uniqueid=channel.env.get("agi_uniqueid"), survey_id=survey_id,
                 rating=rating, steps=steps)
        if survey_id is None:
            return
        try:
            async with unit_of_work(self.sessions) as session:
                if rating is not None:
                    await surveys.record_rating(session, survey_id, rating, self.clock(),
                                                card_id=card_id)
                elif "retries-exhausted" in steps:
                    # Answered, listened, gave no rating: not asked again.
                    await surveys.record_refusal(session, survey_id, self.clock(),
                                                 card_id=card_id)
        except JournalError as exc:
            log.warning("survey answer refused by the journal", survey_id=survey_id,
                        reason=exc.message)
        except Exception:
            log.exception("survey answer not stored", survey_id=survey_id)

    async def secretary(self, channel: Channel) -> None:
        number = await channel.get_variable("HOTLINE_LINE") or ""
        call_id = await channel.get_variable("HOTLINE_ID") or channel.env.get("agi_uniqueid", "")
        try:
            line = self.settings.line(number)
        except KeyError:
            log.warning("secretary for an unknown line", line=number, call_id=call_id)
            return
        org = self.settings.organization(line.organization)
        context = LineContext(
            number=line.number, organization=org.code, queue=org.level1_queue,
            queue_wait=self.settings.asterisk.queue_wait, around_the_clock=line.around_the_clock,
            zone=line.zone, hours=hours_segments(line, self.calendar, self.clock()),
        )
        script = self.scripts.secretary_for(line.number)
        outcome = await Secretary(script, context, channel, self.clock).run()
        log.info("secretary call", call_id=call_id, line=line.number, end=outcome.end,
                 steps=outcome.steps)
        if outcome.message is not None and call_id:
            within = timedelta(minutes=script.message.callback_within_minutes)
            await self.message_left(line.number, call_id, outcome.message, within)

    async def message_left(
        self, line_number: str, call_id: str, message: MessageTaken, within: timedelta
    ) -> None:
        """The card and callback task; a failure is logged (the recording still reaches the
        journal through the tracker, and the message is in `hotline recordings check`)."""
        try:
            await register_message(
                self.sessions, self.settings.line(line_number), self.calendar,
                pbx_call_id=call_id, message=message, within=within, rules=self.rules,
                insurers={org.register_code or org.code: org.code
                          for org in self.settings.organizations if org.kind == "insurer"},
            )
        except JournalError as exc:
            log.warning("secretary message refused by the journal", call_id=call_id,
                        reason=exc.message)
        except Exception:
            log.exception("secretary message not registered", call_id=call_id)

    async def queue_callback(self, channel: Channel) -> None:
        """Key 1 in the queue: the number dialog, then the callback task at once."""
        from hotline.ivr.hours import next_operator_interval
        from hotline.ivr.queue_callback import register_queue_callback, run_dialog

        number = await channel.get_variable("HOTLINE_LINE") or ""
        call_id = await channel.get_variable("HOTLINE_ID") or channel.env.get("agi_uniqueid", "")
        try:
            line = self.settings.line(number)
        except KeyError:
            log.warning("queue callback for an unknown line", line=number, call_id=call_id)
            return
        org = self.settings.organization(line.organization)
        now = self.clock()
        interval = next_operator_interval(line, self.calendar, now)
        within_hour = interval is None or (interval.start <= now
                                           and now + timedelta(hours=1) <= interval.end)
        context = LineContext(
            number=line.number, organization=org.code, queue=org.level1_queue,
            queue_wait=self.settings.asterisk.queue_wait, around_the_clock=line.around_the_clock,
            zone=line.zone, hours=hours_segments(line, self.calendar, now),
        )
        asked = await run_dialog(self.scripts.secretary_for(line.number), context, channel,
                                 self.clock, within_hour=within_hour)
        left = _int(await channel.get_variable("HOTLINE_QLEFT"))
        left_at = datetime.fromtimestamp(left, tz=now.tzinfo) if left else asked.left_at
        log.info("queue callback asked", call_id=call_id, line=line.number, steps=asked.steps)
        if asked.number is None or not call_id:
            return
        # The call tracker's word that this call is not lost (its outcome «queue_callback»):
        # a UserEvent on the channel, as the secretary's message is reported.
        await channel.exec("UserEvent", f"{QUEUE_CALLBACK_USER_EVENT},Line: {line.number}")
        try:
            task = await register_queue_callback(
                self.sessions, line, self.calendar, pbx_call_id=call_id,
                caller_number=usable_number(channel.env.get("agi_callerid")),
                number=asked.number, left_at=left_at, received_at=left_at, rules=self.rules,
            )
        except JournalError as exc:
            log.warning("queue callback refused by the journal", call_id=call_id,
                        reason=exc.message)
            return
        except Exception:
            log.exception("queue callback not registered", call_id=call_id)
            return
        if self.on_callback is not None:
            self.on_callback(task.organization_id)
