"""`hotline asterisk render`: config/asterisk/*.conf from config/hotline.toml."""

from __future__ import annotations

import secrets
from pathlib import Path

import click

from hotline.cli.support import CliError, Context, fail_cleanly, pass_context


@click.group("asterisk")
def asterisk() -> None:
    """Конфигурация Asterisk (config/asterisk/) из config/hotline.toml."""


@asterisk.command("render")
@click.option("--out", "out_dir", default="config/asterisk", show_default=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="Каталог для manager.conf, pjsip.conf, extensions.conf и других.")
@click.option("--phone-passwords", is_flag=True,
              help="Создать pjsip_auth.conf со случайными паролями телефонов, если его нет.")
@click.option("--pbx", "pbx", default=None, metavar="ИМЯ",
              help="Для какой АТС ([[pbx]] name), когда их несколько: её линии, очереди, телефоны.")
@pass_context
@fail_cleanly
def render(ctx: Context, out_dir: Path, phone_passwords: bool, pbx: str | None) -> None:
    """Записывает конфигурацию Asterisk; изменённые файлы перечисляет."""
    from hotline.pbx.config.render import for_pbx, render_phone_auth, write

    settings = ctx.settings
    names = [p.name for p in settings.pbxs]
    if pbx is None and len(names) > 1:
        raise CliError(f"АТС несколько ({', '.join(names)}): укажите, для какой, --pbx ИМЯ")
    if pbx is not None:
        if pbx not in names:
            raise CliError(f"АТС «{pbx}» нет в конфигурации; есть: {', '.join(names)}")
        settings = for_pbx(settings, pbx)
    for path in write(settings, out_dir):
        click.echo(f"записан {path}")
    if phone_passwords:
        auth = out_dir / "pjsip_auth.conf"
        if auth.exists():
            click.echo(f"{auth} уже есть: пароли не изменены", err=True)
        else:
            phones = [p for org in settings.organizations for p in org.phones]
            auth.write_text(
                render_phone_auth(settings, {p: secrets.token_urlsafe(18) for p in phones}),
                encoding="utf-8",
            )
            auth.chmod(0o600)
            click.echo(f"записан {auth} (пароли телефонов; не коммитить)")
