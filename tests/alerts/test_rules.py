"""The alert rules (`hotline.alerts.rules`): raised past a threshold, cleared past a gentler
one held long enough (hysteresis), from figures shaped as the figures core gives them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hotline.alerts.rules import AlertRules
from hotline.config import AlertSettings

T0 = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
LINE = "88007758565"
SETTINGS = AlertSettings(long_wait_seconds=120, long_wait_clear_seconds=90,
                         service_level_percent=80, service_level_clear_percent=85,
                         service_level_min_calls=5, no_operator_seconds=60, pbx_down_seconds=15,
                         clear_after_seconds=30)
OPERATOR = {LINE: "operator"}


def totals(level: float | None = None, offered: int = 0) -> dict[str, Any]:
    return {"service_level": level, "offered": offered}


def figures(*, wait: float = 0, level: float | None = None, offered: int = 0, ready: int = 1,
            talking: int = 0, overdue: int = 0, pbx: str = "connected") -> dict[str, Any]:
    ops = {"ready": ready, "talking": talking}
    return {"pbx": pbx, "scopes": [
        {"kind": "line", "code": LINE, "organization": "tfoms", "title": "8-800-775-85-65",
         "longest_wait": wait, "m15": totals(level, offered), "operators": ops,
         "callbacks": {"due": 0, "overdue": overdue}},
        {"kind": "organization", "code": "tfoms", "organization": "tfoms", "title": "ТФОМС",
         "longest_wait": wait, "m15": totals(level, offered), "operators": ops,
         "callbacks": {"due": 0, "overdue": overdue}},
    ]}


def run(rules: AlertRules, steps: list[tuple[float, dict[str, Any]]], modes=OPERATOR):
    """(seconds after T0, figures) -> [(seconds, kind, "raised"|"cleared")]."""
    seen = []
    for t, fig in steps:
        for alert in rules.evaluate(fig, T0 + timedelta(seconds=t), modes):
            seen.append((t, alert.kind, "cleared" if alert.cleared_at else "raised"))
    return seen


def test_a_long_wait_is_raised_at_once_and_cleared_only_below_the_gentler_threshold() -> None:
    rules = AlertRules(SETTINGS)
    seen = run(rules, [
        (0, figures(wait=100)), (1, figures(wait=121)),   # raised
        (2, figures(wait=100)), (40, figures(wait=100)),  # in the band: stays
        (41, figures(wait=80)), (60, figures(wait=80)),   # clear, but not yet 30 s
        (65, figures(wait=95)),                           # back in the band: the clock restarts
        (66, figures(wait=10)), (96, figures(wait=10)),   # 30 s clear: cleared
    ])
    assert seen == [(1, "long_wait", "raised"), (96, "long_wait", "cleared")]
    assert rules.active == []


def test_the_alert_remembers_the_worst_wait() -> None:
    rules = AlertRules(SETTINGS)
    run(rules, [(0, figures(wait=130)), (10, figures(wait=200)), (20, figures(wait=150))])
    (alert,) = rules.active
    assert (alert.value, alert.worst) == (130, 200)
    assert "3:20" in alert.text and "дольше 2:00" in alert.text


def test_service_level_needs_enough_calls_and_has_its_own_band() -> None:
    rules = AlertRules(SETTINGS)
    seen = run(rules, [
        (0, figures(level=50, offered=4)),   # too few calls: nothing
        (1, figures(level=70, offered=6)),   # raised
        (2, figures(level=82, offered=8)),   # in the band 80..85: stays
        (40, figures(level=85, offered=9)), (70, figures(level=90, offered=9)),  # cleared
    ])
    assert seen == [(1, "service_level", "raised"), (70, "service_level", "cleared")]


def test_no_operator_only_in_operator_hours_and_only_after_a_while() -> None:
    rules = AlertRules(SETTINGS)
    empty = figures(ready=0, talking=0)
    assert run(rules, [(0, empty), (100, empty)], modes={LINE: "secretary"}) == []
    seen = run(rules, [(200, empty), (230, figures(ready=0, talking=1)), (240, empty),
                       (299, empty), (300, empty), (301, figures(ready=2)), (331, figures(ready=2))])
    assert seen == [(300, "no_operator", "raised"), (331, "no_operator", "cleared")]


def test_callbacks_overdue_per_organization_and_the_pbx_link() -> None:
    rules = AlertRules(SETTINGS)
    seen = run(rules, [(0, figures(overdue=2, pbx="disconnected")), (14, figures(pbx="disconnected")),
                       (15, figures(pbx="disconnected")), (16, figures()), (46, figures())])
    assert seen == [(0, "callback_overdue", "raised"), (15, "pbx_down", "raised"),
                    (44 + 2, "callback_overdue", "cleared"), (46, "pbx_down", "cleared")]


def test_a_raise_then_a_clear_is_one_alert_with_both_times() -> None:
    rules = AlertRules(SETTINGS)
    raised = rules.evaluate(figures(wait=500), T0, OPERATOR)
    rules.evaluate(figures(wait=0), T0 + timedelta(seconds=1), OPERATOR)
    cleared = rules.evaluate(figures(wait=0), T0 + timedelta(seconds=31), OPERATOR)
    assert [a.key for a in raised] == [a.key for a in cleared] == [("long_wait", "line", LINE)]
    assert cleared[0].raised_at == T0 and cleared[0].cleared_at == T0 + timedelta(seconds=31)
    assert cleared[0].as_json()["title"] == "Долгое ожидание"


def test_with_several_pbxs_each_link_down_is_its_own_alert_named_by_its_title() -> None:
    """Two PBXs: the second site's link down raises «Нет связи с АТС «Омск…»» for it alone;
    the first's stays quiet; back up, it clears."""
    rules = AlertRules(SETTINGS)

    def two(second: str) -> dict[str, Any]:
        return {**figures(pbx=second), "pbxs": [
            {"name": "main", "title": "Барнаул", "state": "connected"},
            {"name": "omsk-2", "title": "Омск, второй узел", "state": second}]}

    raised = []
    for t, fig in ((0, two("disconnected")), (15, two("disconnected")), (16, two("connected")),
                   (46, two("connected"))):
        raised += [(t, a.scope_code, a.text, a.cleared_at is not None)
                   for a in rules.evaluate(fig, T0 + timedelta(seconds=t), OPERATOR)]
    assert raised == [
        (15, "omsk-2", "Нет связи с АТС «Омск, второй узел»: её звонки идут, но табло и карточки "
                       "их не видят", False),
        (46, "omsk-2", "Нет связи с АТС «Омск, второй узел»: её звонки идут, но табло и карточки "
                       "их не видят", True)]
