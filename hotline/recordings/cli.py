"""`hotline recordings check`: the integrity reconciliation, on demand, for the administrator."""

from __future__ import annotations

import json

import click

from hotline.cli.support import Context, fail_cleanly, open_journal, pass_context, run_async


@click.group("recordings")
def recordings() -> None:
    """Записи разговоров: сверка с файлами."""


@recordings.command("check")
@click.option("--json", "as_json", is_flag=True, help="Вывести неполадки в JSON.")
@pass_context
@fail_cleanly
def check(ctx: Context, as_json: bool) -> None:
    """Сверить звонки, которые должны быть записаны, с файлами: нет записи, пустая или тишина,
    оборвана, файл без звонка, контрольная сумма не совпадает. Каждая неполадка отмечается
    в записи звонка. Код выхода 0 и при найденных неполадках."""
    from hotline.recordings.reconcile import Reconciler
    from hotline.recordings.service import local_storage
    from hotline.recordings.spools import Spools

    settings = ctx.settings

    async def go() -> list:
        async with open_journal(settings) as sessions:
            return await Reconciler(sessions, local_storage(settings), settings.recordings,
                                    spools=Spools.of(settings)).run()

    faults = run_async(go())
    if as_json:
        click.echo(json.dumps([f.as_dict() for f in faults], ensure_ascii=False, indent=2))
        return
    for fault in faults:
        click.echo(fault.line())
    click.echo(f"Неполадок: {len(faults)}." if faults else "Все записи на месте, неполадок нет.")
