"""`/healthz` for load balancers and people, `/metrics` for Prometheus."""

from __future__ import annotations

import asyncio

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from hotline.web.keys import ENGINE, HEALTH_PROBES, METRICS

DB_CHECK_TIMEOUT = 2.0


async def healthz(request: web.Request) -> web.Response:
    """200 while the journal's database answers; the PBX link's state is reported, not fatal.

    Operators can still work on cards when the PBX link is down, so a broken AMI connection
    makes the service "degraded", not "down".
    """
    app = request.app
    body: dict[str, object] = {}
    database_ok = True
    try:
        async with asyncio.timeout(DB_CHECK_TIMEOUT):
            async with app[ENGINE].connect() as conn:
                await conn.execute(text("SELECT 1"))
        body["database"] = {"state": "ok"}
    except Exception as exc:  # any failure of the probe is the answer, not a crash
        database_ok = False
        body["database"] = {"state": "error", "error": type(exc).__name__}
    degraded = False
    for name, probe in app[HEALTH_PROBES].items():
        report = probe()
        body[name] = report
        degraded = degraded or report.get("state") not in ("ok", "connected", "disabled")
    body["status"] = "down" if not database_ok else ("degraded" if degraded else "ok")
    return web.json_response(body, status=200 if database_ok else 503)


async def metrics(request: web.Request) -> web.Response:
    payload = generate_latest(request.app[METRICS])
    return web.Response(body=payload, headers={"Content-Type": CONTENT_TYPE_LATEST})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
