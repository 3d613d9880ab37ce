"""`hotline asterisk render`: config/asterisk/*.conf from config/hotline.toml."""

from __future__ import annotations

import secrets
from pathlib import Path

import click

from hotline.cli.support import Context, fail_cleanly, pass_context


@click.group("asterisk")
def asterisk() -> None:
    """Конфигурация Asterisk (config/asterisk/) из config/hotline.toml."""


@asterisk.command("render")
@click.option("--out", "out_dir", default="config/asterisk", show_default=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="Каталог для manager.conf, pjsip.conf, extensions.conf и других.")
@click.option("--phone-passwords", is_flag=True,
              help="Создать pjsip_auth.conf со случайными паролями телефонов, если его нет.")
@pass_context
@fail_cleanly
def render(ctx: Context, out_dir: Path, phone_passwords: bool) -> None:
    """Записывает конфигурацию Asterisk; изменённые файлы перечисляет."""
    from hotline.pbx.config.render import render_phone_auth, write

    settings = ctx.settings
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
