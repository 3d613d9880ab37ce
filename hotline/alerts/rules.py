"""Alert rules (оповещения): pure, the figures and the moment in, raises and clears out.

Each rule looks at one scope of the figures (`hotline.figures.core`) and says whether its
condition is bad (past the raise threshold), good (past the gentler clear threshold) or in
between. An alert is raised once the condition has been bad for the rule's `raise_after`, and
cleared once it has been good for `clear_after_seconds`; in between nothing changes
(hysteresis), so a figure hovering at the threshold does not make the banner blink.

Rules (thresholds in `[alerts]` of hotline.toml):
- `long_wait` per line: the longest wait now over `long_wait_seconds`; clear at or under
  `long_wait_clear_seconds`;
- `service_level` per line: the last 15 minutes' service level under `service_level_percent`
  on at least `service_level_min_calls` offered calls; clear at or over
  `service_level_clear_percent` (or fewer calls than that);
- `no_operator` per line: in operator mode (not the electronic secretary) and no operator
  in the organization's queues (ready or talking) for `no_operator_seconds`;
- `callback_overdue` per organization: a pending callback past its due time;
- `pbx_down` for the center: the AMI link not connected for `pbx_down_seconds` (with several
  PBXs, one per PBX: its name the alert's scope code, its title in the text).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from hotline.config import AlertSettings

TITLES = {
    "long_wait": "Долгое ожидание",
    "service_level": "Низкий уровень обслуживания",
    "no_operator": "Нет операторов на линии",
    "callback_overdue": "Просрочены обратные звонки",
    "pbx_down": "Нет связи с АТС",
}


def minutes(seconds: float) -> str:
    """130 -> "2:10"."""
    seconds = int(round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert of one scope: raised at `raised_at`, cleared at `cleared_at` (None: active).
    `value` is the figure when raised and `worst` the worst seen while active."""

    kind: str
    scope_kind: str
    scope_code: str
    organization: str | None
    title: str
    text: str
    value: float | None
    threshold: float | None
    raised_at: datetime
    worst: float | None = None
    cleared_at: datetime | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.kind, self.scope_kind, self.scope_code)

    def as_json(self) -> dict[str, Any]:
        return {
            "key": ":".join(self.key), "kind": self.kind, "scope_kind": self.scope_kind,
            "scope_code": self.scope_code, "organization": self.organization,
            "title": self.title, "text": self.text, "value": self.value,
            "threshold": self.threshold, "worst": self.worst,
            "raised_at": self.raised_at.isoformat(),
            "cleared_at": self.cleared_at.isoformat() if self.cleared_at else None,
        }


@dataclass(frozen=True, slots=True)
class Condition:
    """What one rule sees in one scope now."""

    kind: str
    scope_kind: str
    scope_code: str
    organization: str | None
    bad: bool
    good: bool
    value: float | None
    threshold: float | None
    text: str
    raise_after: float = 0.0
    worse: Callable[[float, float], bool] = lambda new, old: new > old


@dataclass(slots=True)
class _Track:
    bad_since: datetime | None = None
    good_since: datetime | None = None
    alert: Alert | None = None


@dataclass(slots=True)
class AlertRules:
    """The rules' state: the conditions' timers and the alerts active now."""

    settings: AlertSettings
    tracks: dict[tuple[str, str, str], _Track] = field(default_factory=dict)

    @property
    def active(self) -> list[Alert]:
        return sorted((t.alert for t in self.tracks.values() if t.alert is not None),
                      key=lambda a: a.raised_at)

    def evaluate(self, figures: Mapping[str, Any], now: datetime,
                 modes: Mapping[str, str | None]) -> list[Alert]:
        """The alerts raised (`cleared_at` None) and cleared by the figures at `now`.
        `modes`: each line's mode now ("operator", "secretary"), as the PBX was told."""
        changes = []
        for condition in self.conditions(figures, modes):
            change = self._step(condition, now)
            if change is not None:
                changes.append(change)
        return changes

    def _step(self, c: Condition, now: datetime) -> Alert | None:
        key = (c.kind, c.scope_kind, c.scope_code)
        track = self.tracks.setdefault(key, _Track())
        if track.alert is None:
            if not c.bad:
                track.bad_since = None
                return None
            track.bad_since = track.bad_since or now
            if now - track.bad_since < timedelta(seconds=c.raise_after):
                return None
            track.good_since = None
            track.alert = Alert(
                kind=c.kind, scope_kind=c.scope_kind, scope_code=c.scope_code,
                organization=c.organization, title=TITLES[c.kind], text=c.text, value=c.value,
                threshold=c.threshold, raised_at=now, worst=c.value)
            return track.alert
        alert = track.alert
        if c.value is not None and (alert.worst is None or c.worse(c.value, alert.worst)):
            track.alert = alert = replace(alert, worst=c.value, text=c.text)
        if not c.good:
            track.good_since = None
            return None
        track.good_since = track.good_since or now
        if now - track.good_since < timedelta(seconds=self.settings.clear_after_seconds):
            return None
        track.alert, track.bad_since, track.good_since = None, None, None
        return replace(alert, cleared_at=now)

    # ------------------------------------------------------------ the rules

    def conditions(self, figures: Mapping[str, Any], modes: Mapping[str, str | None]
                   ) -> list[Condition]:
        s = self.settings
        found: list[Condition] = []
        for scope in figures["scopes"]:
            kind, code, org = scope["kind"], scope["code"], scope.get("organization")
            where = scope.get("title", code)
            if kind == "line":
                wait = float(scope["longest_wait"])
                found.append(Condition(
                    "long_wait", kind, code, org, wait > s.long_wait_seconds,
                    wait <= s.long_wait_clear_seconds, wait, float(s.long_wait_seconds),
                    f"{where}: абонент ждёт ответа {minutes(wait)} — дольше "
                    f"{minutes(s.long_wait_seconds)}"))
                m15 = scope["m15"]
                level, offered = m15["service_level"], m15["offered"]
                enough = offered >= s.service_level_min_calls and level is not None
                found.append(Condition(
                    "service_level", kind, code, org,
                    enough and level < s.service_level_percent,
                    not enough or level >= s.service_level_clear_percent,
                    level, float(s.service_level_percent),
                    f"{where}: уровень обслуживания за 15 минут {_pct(level)} — ниже "
                    f"{_pct(s.service_level_percent)} ({offered} звонков)",
                    worse=lambda new, old: new < old))
                ops = scope["operators"]
                staffed = ops["ready"] + ops["talking"]
                in_hours = modes.get(code) == "operator"
                found.append(Condition(
                    "no_operator", kind, code, org, in_hours and staffed == 0,
                    not in_hours or staffed > 0, float(staffed), None,
                    f"{where}: часы работы операторов, а в очереди нет ни одного оператора",
                    raise_after=s.no_operator_seconds, worse=lambda new, old: False))
            elif kind == "organization" and s.callback_overdue:
                overdue = scope["callbacks"]["overdue"]
                found.append(Condition(
                    "callback_overdue", kind, code, org, overdue > 0, overdue == 0,
                    float(overdue), 0.0, f"{where} — просрочено: {overdue}"))
        links = figures.get("pbxs")
        if links:  # several PBXs: one alert per PBX whose link is down, named by its title
            for link in links:
                up = link["state"] == "connected"
                found.append(Condition(
                    "pbx_down", "center", link["name"], None, not up, up, None, None,
                    f"Нет связи с АТС «{link['title']}»: её звонки идут, но табло и карточки "
                    "их не видят", raise_after=s.pbx_down_seconds))
            return found
        pbx = figures.get("pbx", "disabled")
        if pbx != "disabled":
            up = pbx == "connected"
            found.append(Condition(
                "pbx_down", "center", "", None, not up, up, None, None,
                "Нет связи с АТС: звонки идут, но табло и карточки их не видят",
                raise_after=s.pbx_down_seconds))
        return found


def _pct(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.0f} %" if float(value).is_integer() else f"{value:.1f} %".replace(".", ",")
