"""`/healthz` for load balancers and people, `/metrics` for Prometheus.

Anyone may ask `/healthz` whether the service lives (`{"status"}` and 200/503: a load
balancer needs no more). What it depends on (the PBX's host, port and banner, the journal
writer, the recordings' storage) and `/metrics` are for the administrators signed in and for
a scraper with `Authorization: Bearer <[service] metrics_token>`, compared in constant time.
"""

from __future__ import annotations

import asyncio
import hmac

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from hotline.web.keys import ENGINE, HEALTH_PROBES, METRICS, SETTINGS

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
        degraded = degraded or report.get("state") not in ("ok", "connected", "disabled", "standby")
    body["status"] = "down" if not database_ok else ("degraded" if degraded else "ok")
    if not await may_see_details(request):
        body = {"status": body["status"]}
    response = web.json_response(body, status=200 if database_ok else 503)
    response.headers["Cache-Control"] = "no-store"
    return response


async def may_see_details(request: web.Request) -> bool:
    """The scrape token in `Authorization: Bearer ...`, or an administrator's session."""
    token = request.app[SETTINGS].service.metrics_token
    sent = request.headers.get("Authorization", "")
    if token and sent.startswith("Bearer ") and sent.isascii():
        if hmac.compare_digest(sent.removeprefix("Bearer ").strip().encode(), token.encode()):
            return True
    from hotline.web.pages import current_user  # pages import the web's other modules

    try:
        user = await current_user(request)
    except Exception:  # the database is down: no session can be checked, no details
        return False
    return user is not None and user.is_admin


async def metrics(request: web.Request) -> web.Response:
    if not await may_see_details(request):
        return web.json_response(
            {"error": {"code": "unauthenticated",
                       "message": "Метрики доступны администратору или по токену сбора метрик"}},
            status=401, headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    payload = generate_latest(request.app[METRICS])
    return web.Response(body=payload, headers={"Content-Type": CONTENT_TYPE_LATEST})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
