"""`hotline simulate`: the PBX simulator as a stand-alone AMI server (demo, training, load)."""

from __future__ import annotations

import asyncio
import contextlib
import random

import click

from hotline.cli.support import CliError, Context, fail_cleanly, pass_context, run_async

DEFAULT_MIX = "answered=6,abandoned=1,blind=2,attended=1,secretary=1,queue_callback=1"


def parse_mix(text: str) -> dict[str, float]:
    """"answered=6,abandoned=1" -> {"answered": 6.0, "abandoned": 1.0}."""
    from hotline.sim.calls import scenario_name

    mix: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, weight = part.partition("=")
        try:
            scenario_name(name)
            mix[name] = float(weight or 1)
        except ValueError as exc:
            raise CliError(f"--mix: {exc}") from None
    if not mix or sum(mix.values()) <= 0:
        raise CliError("--mix: нужен хотя бы один сценарий с положительным весом")
    return mix


@click.command("simulate")
@click.option("--host", default="127.0.0.1", show_default=True, help="Адрес AMI-сервера.")
@click.option("--port", default=5038, show_default=True, type=click.IntRange(0, 65535))
@click.option("--calls-per-minute", default=2.0, show_default=True, type=click.FloatRange(0),
              help="Сколько звонков граждан в минуту (0 — только по командам службы).")
@click.option("--mix", default=DEFAULT_MIX, show_default=True,
              help="Сценарии и их веса: answered, abandoned, blind, attended, secretary.")
@click.option("--time-scale", default=1.0, show_default=True, type=click.FloatRange(0.001),
              help="Множитель времени сценариев (0.1 — в десять раз быстрее).")
@click.option("--seed", type=int, help="Зерно случайных чисел (повторяемый прогон).")
@click.option("--record/--no-record", default=True, show_default=True,
              help="Писать WAV-файлы записей в [recordings] pbx_dir, как MixMonitor.")
@pass_context
@fail_cleanly
def simulate(ctx: Context, host: str, port: int, calls_per_minute: float, mix: str,
             time_scale: float, seed: int | None, record: bool) -> None:
    """Учебная АТС: отвечает по AMI как Asterisk 22 и проигрывает звонки граждан.

    Пользователь и пароль AMI берутся из [ami] конфигурации, так что `hotline serve`
    подключается к ней без настройки.
    """
    from hotline.sim.simulator import PbxSimulator

    weights = parse_mix(mix)
    settings = ctx.settings

    async def go() -> None:
        rng = random.Random(seed)
        sim = PbxSimulator(settings, host=host, port=port, time_scale=time_scale, seed=seed,
                           as_configured=True, recordings_dir=settings.recordings.pbx_dir if record else None)
        await sim.start()
        bound_host, bound_port = sim.address
        click.echo(f"Учебная АТС слушает AMI на {bound_host}:{bound_port} "
                   f"(пользователь {settings.ami.user}). Ctrl+C — остановить.", err=True)
        lines = [line.number for line in settings.lines]
        try:
            while True:
                if calls_per_minute <= 0:
                    await asyncio.sleep(3600)
                    continue
                await asyncio.sleep(rng.expovariate(calls_per_minute / 60.0))
                scenario = rng.choices(list(weights), list(weights.values()))[0]
                sim.place_call(rng.choice(lines), scenario=scenario)
        finally:
            await sim.stop()

    with contextlib.suppress(KeyboardInterrupt):
        run_async(go())
