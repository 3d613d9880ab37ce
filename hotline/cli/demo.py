"""`hotline demo`: the whole hotline on one machine, in one process, in one command.

It starts the PBX simulator on a free port playing citizens' calls at a modest rate, points the
service at it with an embedded SQLite journal (var/demo.sqlite3), creates sample users with
fresh passwords (printed once: each run sets new ones) and prints the address. Lines that are
not staffed around the clock are put into operator mode for the demo's duration (an ordinary
mode override, visible in `hotline mode`), so the fund's operators get calls at any hour.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import secrets
from typing import Any
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import click
import structlog
from aiohttp import web
from sqlalchemy import select

from hotline.cli.support import Context, fail_cleanly, pass_context, run_async
from hotline.config import Settings
from journal.clock import utc_now
from journal import labels

log = structlog.get_logger(__name__)

DEFAULT_VAR = Path("var")
DEMO_DB = "demo.sqlite3"
PBX_SPOOL = "demo-pbx-spool"
OVERRIDE_HOURS = 12
DEMO_MIX = {"answered": 6.0, "abandoned": 1.0, "blind": 2.0, "attended": 1.0, "secretary": 1.0,
            "queue_callback": 1.0}
# Answer scripts for the operators to search in the demo (title, ПГ topic, keywords, text);
# added to an empty journal only, so an administrator's edits survive the next run.
DEMO_SCRIPTS = (
    ("Замена страховой медицинской организации", "4.4", "смена СМО, замена страховой, переезд",
     "Сменить СМО можно один раз в календарном году (до 1 ноября) или чаще при переезде. "
     "Обратитесь в офис выбранной СМО с паспортом; полис прежней СМО действует до получения нового."),
    ("Полис ОМС для иностранного гражданина", "4.1.1", "иностранец, беженец, полис, ВНЖ",
     "Полис оформляется иностранцам с разрешением на временное проживание или видом на "
     "жительство, беженцам — со свидетельством; трудящимся мигрантам из ЕАЭС — при договоре."),
    ("Выбор или смена поликлиники", "4.2", "прикрепление, поликлиника, выбор МО",
     "Медицинскую организацию выбирают не чаще раза в год (кроме переезда): заявление подаётся "
     "в выбранную поликлинику, открепляться от прежней не нужно."),
    ("Взимание денег за помощь по полису ОМС", "4.12", "платно, деньги, касса, оплатили",
     "Помощь по программе ОМС бесплатна. Сохраните чек и договор; мы проверим обоснованность "
     "оплаты и при необходимости добьёмся возврата. Предложите оформить жалобу."),
)


@dataclass(frozen=True, slots=True)
class DemoUser:
    """A sample user; `password` is generated for this run."""

    login: str
    full_name: str
    role: str
    organization: str
    level: int | None = None
    interface: str | None = None
    password: str = field(default="", repr=False)


def demo_users(settings: Settings, roster: Mapping[str, Sequence[object]]) -> list[DemoUser]:
    """The administrator, the fund's operators at op101/op102 (level 1) and op201 (level 2),
    and a level-1 operator of the first insurer at its first phone in the simulator."""
    fund = next(o for o in settings.organizations if o.kind == "fund")
    users = [
        DemoUser("admin", "Администратор контакт-центра", "admin", fund.code),
        DemoUser("op101", "Иванова Мария (1 уровень)", "operator", fund.code, 1, "PJSIP/op101"),
        DemoUser("op102", "Петров Сергей (1 уровень)", "operator", fund.code, 1, "PJSIP/op102"),
        DemoUser("op201", "Сидорова Елена (2 уровень)", "operator", fund.code, 2, "PJSIP/op201"),
    ]
    insurer = next((o for o in settings.organizations if o.kind == "insurer"), None)
    phones = roster.get(insurer.level1_queue, []) if insurer else []
    if insurer is not None and phones:
        interface = str(getattr(phones[0], "interface"))  # noqa: B009 - a simulator Phone
        users.append(DemoUser(f"{insurer.code}-op", f"Оператор {insurer.code.upper()} (1 уровень)",
                              "operator", insurer.code, 1, interface))
    return [
        DemoUser(u.login, u.full_name, u.role, u.organization, u.level, u.interface,
                 secrets.token_urlsafe(9))
        for u in users
    ]


def demo_settings(settings: Settings, ami: tuple[str, int], var: Path, *, host: str,
                  port: int) -> Settings:
    """The configuration with the demo's own journal, spool and recordings under `var`."""
    ami_host, ami_port = ami
    return settings.model_copy(update={
        "service": settings.service.model_copy(update={
            "database_url": f"sqlite+aiosqlite:///{var / DEMO_DB}",
            "spool_dir": var / "demo-spool",
            "recordings_dir": var / "demo-recordings",
            "http_host": host,
            "http_port": port if port else settings.service.http_port,
        }),
        "ami": settings.ami.model_copy(update={"host": ami_host, "port": ami_port}),
        "recordings": settings.recordings.model_copy(update={"pbx_dir": var / PBX_SPOOL}),
        "asterisk": settings.asterisk.model_copy(update={"agi_serve": False}),
    })


async def prepare_journal(settings: Settings, users: list[DemoUser]) -> None:
    """Migrate the demo journal, sync the region, (re)create the users, open the lines."""
    from hotline.bootstrap import sync_region
    from hotline.modes.store import add_override
    from journal.calendar import load_calendar_dir
    from journal.db import make_engine, make_sessionmaker, unit_of_work, upgrade_async
    from journal.models import AnswerScript, User
    from journal.users import add_user, hash_password

    url = settings.service.database_url
    await upgrade_async(url)
    engine = make_engine(url)
    try:
        sessions = make_sessionmaker(engine)
        await sync_region(sessions, settings, load_calendar_dir(settings.service.calendar_dir))
        async with unit_of_work(sessions) as session:
            for u in users:
                existing = await session.scalar(select(User).where(User.login == u.login))
                if existing is not None:  # a second run: new password, unlocked
                    existing.password_hash = hash_password(u.password)
                    existing.failed_logins = 0
                    existing.locked_until = None
                    existing.active = True
                    continue
                await add_user(session, login=u.login, password=u.password,
                               full_name=u.full_name, role=u.role,
                               organization_code=u.organization, level=u.level,
                               interface=u.interface)
        now = utc_now()
        async with unit_of_work(sessions) as session:
            if await session.scalar(select(AnswerScript.id).limit(1)) is None:
                session.add_all(AnswerScript(title=title, topic_code=topic, keywords=keywords,
                                             body=body, updated_at=now)
                                for title, topic, keywords, body in DEMO_SCRIPTS)
        for line in settings.lines:
            if not line.around_the_clock:
                await add_override(sessions, line=line.number, mode="operator",
                                   until=now + timedelta(hours=OVERRIDE_HOURS), now=now,
                                   set_by="admin", reason="hotline demo")
    finally:
        await engine.dispose()


class Demo:
    """The running demo: simulator, service, call generator. `start()` then `stop()`."""

    def __init__(self, settings: Settings, *, var: Path = DEFAULT_VAR, host: str = "127.0.0.1",
                 port: int = 8080, calls_per_minute: float = 3.0, time_scale: float = 1.0,
                 seed: int | None = None) -> None:
        self.base_settings = settings
        self.var = var
        self.host = host
        self.port = port
        self.calls_per_minute = calls_per_minute
        self.time_scale = time_scale
        self.rng = random.Random(seed)
        self.seed = seed
        self.users: list[DemoUser] = []
        self.url = ""
        self.settings: Settings | None = None
        self._sim: object | None = None
        self._runner: web.AppRunner | None = None
        self._caller: asyncio.Task[None] | None = None
        self._agi: Any = None  # the FastAGI server of key 1 in the queue

    async def start(self) -> None:
        from hotline.app import create_app
        from hotline.keys import PBX
        from hotline.pbx.tracking.agents import OUT_OF_QUEUE_REASON
        from hotline.sim.simulator import PbxSimulator

        self.var.mkdir(parents=True, exist_ok=True)
        sim = PbxSimulator(self.base_settings, port=0, time_scale=self.time_scale,
                           seed=self.seed, auth_failure_delay=0, as_configured=True,
                           recordings_dir=self.var / PBX_SPOOL)  # real WAVs, as MixMonitor
        await sim.start()
        self._sim = sim
        # Nobody is at the workspace yet: every phone starts out of its queue (a static
        # member paused «вне очереди», as «Выйти из очереди» leaves it), so no call is answered
        # by a phone whose operator has not signed in and pressed «Встать в очередь». With
        # every phone of a queue out, the PBX sends the caller to the electronic secretary.
        for phones in sim.dialplan.roster.values():
            for phone in phones:
                sim.pause_from_phone(phone.interface, True, OUT_OF_QUEUE_REASON)
        self.settings = demo_settings(self.base_settings, sim.address, self.var,
                                      host=self.host, port=self.port)
        self.users = demo_users(self.settings, sim.dialplan.roster)
        await prepare_journal(self.settings, self.users)
        app = create_app(self.settings, migrate=False)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        bound = self._runner.addresses[0]
        self.url = f"http://{self.host}:{bound[1]}/"
        await self._serve_queue_callback(app, sim)
        await app[PBX].wait_resynced(1, timeout=15)
        self._caller = asyncio.create_task(self._play_calls(), name="demo-calls")

    async def _serve_queue_callback(self, app: web.Application, sim: object) -> None:
        """Key 1 in the queue: the service's FastAGI `queue-callback` script on a free port of
        its own, for the simulator's dialplan only (`[asterisk] agi_serve` stays off in the
        demo: automatic surveys would dial citizens the simulator does not play)."""
        from hotline.bootstrap import card_rules
        from hotline.callbacks.live import announce
        from hotline.ivr.loader import load_scripts
        from hotline.ivr.service import IvrService
        from hotline.sim.agi import AgiTarget
        from hotline.web.keys import CALENDAR, SESSIONS

        assert self.settings is not None
        try:
            scripts = load_scripts(self.settings.asterisk.ivr_scripts_dir, self.settings)
        except Exception:
            log.exception("demo: no IVR scripts, key 1 in the queue goes to the secretary")
            return
        service = IvrService(self.settings, scripts, app[CALENDAR], app[SESSIONS],
                             card_rules(self.settings, app[CALENDAR]))
        service.on_callback = lambda org_id: announce(app, [org_id])
        server = service.server()
        server.host, server.port = "127.0.0.1", 0
        await server.start()
        self._agi = server
        sim.engine.agi = AgiTarget("127.0.0.1", server.port)  # type: ignore[attr-defined]

    async def _play_calls(self) -> None:
        """Citizens call a random line at `calls_per_minute` on average (Poisson arrivals)."""
        sim = self._sim
        assert sim is not None and self.settings is not None
        lines = [line.number for line in self.settings.lines]
        names, weights = list(DEMO_MIX), list(DEMO_MIX.values())
        while self.calls_per_minute > 0:
            await asyncio.sleep(self.rng.expovariate(self.calls_per_minute / 60.0))
            try:
                scenario = self.rng.choices(names, weights)[0]
                sim.place_call(self.rng.choice(lines), scenario=scenario)  # type: ignore[attr-defined]
            except Exception:
                log.exception("demo call not placed")

    async def stop(self) -> None:
        if self._caller is not None:
            self._caller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._caller
        if self._agi is not None:
            await self._agi.stop()
        if self._runner is not None:
            await self._runner.cleanup()
        if self._sim is not None:
            await self._sim.stop()  # type: ignore[attr-defined]

    def banner(self) -> str:
        rows = [f"Горячая линия (демо) работает: {self.url}",
                f"Учебная АТС: {self.settings.ami.host}:{self.settings.ami.port}" if self.settings
                else "",
                f"Журнал: {self.settings.service.database_url}" if self.settings else "",
                "Пользователи (пароли показаны один раз; новый запуск задаёт новые):"]
        names = {o.code: o.name for o in self.settings.organizations} if self.settings else {}
        for u in self.users:
            role = labels.title("roles", u.role)
            who = role if u.level is None else f"{role} {u.level} уровня"
            phone = f", телефон {u.interface}" if u.interface else ""
            org = names.get(u.organization, u.organization)
            rows.append(f"  {u.login:<10} {u.password}   ({org}, {who}{phone})")
        rows.append("Ctrl+C — остановить.")
        return "\n".join(r for r in rows if r)


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True, help="Адрес HTTP.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535),
              help="Порт HTTP (0 — любой свободный).")
@click.option("--var", "var_dir", default=str(DEFAULT_VAR), show_default=True,
              type=click.Path(file_okay=False), help="Каталог базы demo.sqlite3 и файлов демо.")
@click.option("--calls-per-minute", default=3.0, show_default=True, type=click.FloatRange(0),
              help="Сколько звонков граждан в минуту проигрывает учебная АТС.")
@click.option("--time-scale", default=1.0, show_default=True, type=click.FloatRange(0.01),
              help="Множитель времени сценариев (0.5 — вдвое быстрее).")
@click.option("--seed", type=int, help="Зерно случайных чисел (повторяемые звонки).")
@pass_context
@fail_cleanly
def demo(ctx: Context, host: str, port: int, var_dir: str, calls_per_minute: float,
         time_scale: float, seed: int | None) -> None:
    """Демонстрация: учебная АТС, служба на SQLite и пользователи — одной командой.

    Создаёт администратора, операторов ТФОМС 1 и 2 уровня (PJSIP/op101, op102, op201)
    и оператора СМО; их пароли печатаются один раз.
    """
    running = Demo(ctx.settings, var=Path(var_dir), host=host, port=port,
                   calls_per_minute=calls_per_minute, time_scale=time_scale, seed=seed)

    async def go() -> None:
        try:
            await running.start()
            click.echo(running.banner())
            await asyncio.Event().wait()  # until Ctrl+C
        finally:
            await running.stop()

    with contextlib.suppress(KeyboardInterrupt):
        run_async(go())
