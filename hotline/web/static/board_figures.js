/* The board's figures panel: each scope (the center, each organization, each line) for the
   window chosen (today, 15 or 60 minutes), the operators' day, and the alerts' banner.
   Column and window captions are in the template; the rest comes with the messages. */
"use strict";

const BoardFigures = (() => {
  const { h } = Hotline;
  let latest = null;
  let windowName = "today";

  function cell(value, attrs = {}) {
    return h("td", { class: "num", ...attrs }, value === null || value === undefined ? "—" : String(value));
  }

  function scopeRow(s) {
    const w = s[windowName];
    const ops = s.operators;
    const paused = Object.entries(ops.paused_by_reason).map(([r, n]) => `${r}: ${n}`).join(", ");
    const slow = w.service_level !== null && s.kind === "line" && w.service_level < 80;
    return h("tr", { class: `scope-${s.kind}`, "data-testid": "figures-row", "data-kind": s.kind,
      "data-code": s.code },
      h("th", { scope: "row" }, s.title),
      cell(s.waiting, { "data-testid": "fig-waiting" }),
      cell(LiveFigures.wait(s.longest_wait), { class: `num${s.longest_wait >= 60 ? " warn" : ""}` }),
      cell(w.arrived),
      cell(LiveFigures.percent(w.service_level), { "data-testid": "fig-sl", class: `num${slow ? " warn" : ""}` }),
      cell(LiveFigures.wait(w.asa)),
      cell(LiveFigures.percent(w.abandon_rate)),
      cell(w.secretary),
      cell(`${s.callbacks.due} / ${s.callbacks.overdue}`, { class: `num${s.callbacks.overdue ? " warn" : ""}` }),
      cell(ops.ready), cell(ops.talking),
      h("td", { class: "num", title: paused }, String(ops.paused)),
      cell(ops.unavailable));
  }

  function render(nameOf) {
    if (!latest) return;
    const body = document.querySelector("#figures-table tbody");
    body.replaceChildren(...latest.scopes.map(scopeRow));
    const days = document.querySelector("#operators-day tbody");
    if (!days) return;
    const rows = (latest.operators || []).filter((o) => o.calls || o.state !== "unknown");
    days.replaceChildren(...rows.map((o) => h("tr", { "data-testid": "operator-day", "data-interface": o.interface },
      h("td", {}, nameOf(o.interface)),
      h("td", {}, (latest.state_titles || {})[o.state] || o.state,
        o.paused_reason ? h("span", { class: "muted small" }, ` (${o.paused_reason})`) : null),
      cell(o.calls), cell(LiveFigures.wait(o.talk_seconds)))));
    if (!rows.length) days.append(h("tr", {}, h("td", { colspan: 4, class: "empty" }, days.dataset.empty)));
  }

  /** Wire the window buttons and the sound button; `nameOf(interface)` names an operator. */
  function setup(nameOf) {
    for (const button of document.querySelectorAll("[data-window]")) {
      button.addEventListener("click", () => {
        windowName = button.dataset.window;
        for (const b of document.querySelectorAll("[data-window]")) b.classList.toggle("active", b === button);
        render(nameOf);
      });
    }
    LiveFigures.bindSoundButton(document.getElementById("alert-sound"));
    return {
      figures: (msg) => { latest = msg; render(nameOf); },
      alerts: (msg) => LiveFigures.showAlerts(document.getElementById("alert-banner"), msg),
    };
  }

  return { setup };
})();
