"""The real-PBX tier's fixtures: the two Asterisk processes for a module, a stage per scenario."""

from __future__ import annotations

import secrets

import pytest

from hotline.config import Settings  # noqa: E402
from hotline.pbx.config.render import render, render_phone_auth  # noqa: E402
from tests.asterisk import pbx
from tests.support.real_pbx import PHONES, SOUNDS, Pbxs, pbx_settings, stage


@pytest.fixture(scope="module")
def pbxs(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Pbxs:
    root = tmp_path_factory.mktemp("asterisk")
    ami_port, agi_port, world_ami = pbx.free_port(), pbx.free_port(), pbx.free_port()
    region = pbx_settings(settings, ami_port, agi_port)
    phones = [p for org in region.organizations for p in org.phones]
    passwords = {p: secrets.token_urlsafe(12) for p in phones}
    files = render(region)
    files["hotline/pjsip_auth.conf"] = render_phone_auth(region, passwords)
    hotline = pbx.Asterisk("hotline", root / "under-test", files, SOUNDS)
    world = pbx.Asterisk("world", root / "world",
                         pbx.world_files(world_ami, {p: passwords[p] for p in PHONES}))
    hotline.start()
    world.start()
    yield Pbxs(hotline, world, ami_port, agi_port, world_ami)
    world.stop()
    hotline.stop()


@pytest.fixture
async def make_stage(pbxs, settings, pg_only_engine, pg_url, tmp_path):
    def factory(name: str):
        return stage(pbxs, settings, pg_url, tmp_path, name)
    return factory
