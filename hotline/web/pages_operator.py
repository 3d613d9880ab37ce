"""The operator's workspace (`/operator`, рабочее место оператора 1 и 2 уровня).

One page an operator keeps open all shift beside the phone: the agent state bar (queue,
pause with a reason), the card of the ringing call popped over the live channel, the card
editor with a draft kept in the browser, the transfer to level 2, the deferred answer and the
operator's own callbacks and cards. The page is a shell: `operator.js` does everything
through `/api/v1`, so what it shows and changes goes through the journal's access layer.
"""

from __future__ import annotations

from aiohttp import web

from hotline.web.pages import OPERATOR, PageUser, add_nav, add_page, render

# Why an operator steps away from the queue; "другое" lets them type the reason.
PAUSE_REASONS = ("перерыв", "обед", "обучение", "работа с письменными обращениями",
                 "технический перерыв", "другое")


async def workspace(request: web.Request, user: PageUser) -> web.Response:
    """The workspace shell; the browser fills it from the API and the live channel."""
    data = {
        "user": {"id": user.id, "login": user.login, "full_name": user.full_name,
                 "level": user.level, "interface": user.interface,
                 "organization_code": user.organization_code,
                 "organization_name": user.organization_name},
        "pause_reasons": list(PAUSE_REASONS),
    }
    return render(request, "operator.html", user, title="Рабочее место оператора",
                  page_data=data)


def add_routes(app: web.Application) -> None:
    add_page(app, "/operator", workspace, OPERATOR)
    add_nav(app, "/operator", "Рабочее место", OPERATOR)
