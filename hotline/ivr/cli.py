"""`hotline prompts build`: the secretary's Russian audio from the scripts' text."""

from __future__ import annotations

import click

from hotline.cli.support import CliError, Context, fail_cleanly, pass_context


@click.group("prompts")
def prompts() -> None:
    """Звуковые подсказки автосекретаря (ivr_scripts/prompts/ru)."""


@prompts.command("build")
@click.option("--check", is_flag=True, help="Только проверить, что все файлы есть и актуальны.")
@click.option("--force", is_flag=True, help="Синтезировать заново все подсказки.")
@pass_context
@fail_cleanly
def prompts_build(ctx: Context, check: bool, force: bool) -> None:
    """Синтезировать недостающие и изменённые подсказки (espeak-ng, 8 кГц WAV)."""
    from hotline.ivr.loader import load_scripts
    from hotline.ivr.prompts import (
        PromptBuildError,
        all_prompts,
        build,
        orphan_prompts,
        prompts_dir,
        stale_prompts,
    )

    settings = ctx.settings
    scripts_dir = settings.asterisk.ivr_scripts_dir
    texts = all_prompts(load_scripts(scripts_dir, settings))
    directory = prompts_dir(scripts_dir)
    if check:
        stale = stale_prompts(texts, directory)
        for orphan in orphan_prompts(texts, directory):
            click.echo(f"не используется: {orphan}.wav", err=True)
        if stale:
            raise CliError(f"нет или устарели {len(stale)} подсказок: {', '.join(stale[:10])}"
                           + (" ..." if len(stale) > 10 else "") + "; выполните hotline prompts build")
        click.echo(f"Все {len(texts)} подсказок на месте и актуальны.")
        return
    try:
        report = build(texts, directory, force=force)
    except PromptBuildError as exc:
        raise CliError(str(exc)) from None
    click.echo(f"Синтезировано: {len(report.built)}, без изменений: {report.unchanged}.")
    for orphan in report.orphans:
        click.echo(f"не используется (оставлен): {orphan}.wav", err=True)
