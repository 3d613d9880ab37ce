/* The live board: `board` messages of /api/v1/ws (calls in progress and waiting, lines' modes,
   operators' queue states and phones as the PBX reports them) with wait and talk times and
   each operator's time in their state ticking every second, and each line's next switch from
   GET /api/v1/modes (refreshed every minute). On a call in conversation: «Прослушать»,
   «Подсказать», «Вмешаться» (POST /api/v1/calls/{id}/supervision: the signed-in supervisor's
   own phone rings and listens; pressed again while listening, they switch the mode) and
   «Завершить» (DELETE); who listens, and how, is shown on the call and on its operator. */
"use strict";

(() => {
  const { h, fmt } = Hotline;
  const SPY_MODES = ["listen", "whisper", "barge"];
  // Calls', operators', phones', lines' and the PBX's states, and supervision's words, by the
  // API's titles.
  const { label } = Hotline;
  let board = null, modes = {}, staff = null, dict = null, me = null;

  /** Who listens to a call: "Главная Галина — подсказывает". */
  function listenerText(listener) {
    const user = staff && staff.byInterface[listener.interface];
    // A phone the board does not name is the contact center's administrator's.
    const who = user ? user.full_name
      : listener.interface ? listener.interface.replace(/^PJSIP\//, "") : "администратор центра";
    return `${who} — ${label("spy_modes", listener.mode)}`;
  }

  async function supervise(call, mode, listening) {
    try {
      if (mode) {
        await Hotline.api("POST", `/api/v1/calls/${call.id}/supervision`, { mode });
        Hotline.toast(listening ? label("spy_switched", mode)
          : "Звоним на ваш телефон: снимите трубку, чтобы подключиться к разговору", "info");
      } else {
        await Hotline.api("DELETE", `/api/v1/calls/${call.id}/supervision`);
        Hotline.toast("Прослушивание завершено", "info");
      }
    } catch (err) {
      Hotline.fail(err);
    }
  }

  /** «Прослушать», «Подсказать», «Вмешаться» (and «Завершить» while the signed-in supervisor
      listens) for a call in conversation; `prefix` keeps the test ids of the calls' table and
      the operators' table apart. */
  function spyButtons(call, prefix) {
    const mine = me && me.interface && (call.listeners || [])
      .find((l) => (l.interface || "").toLowerCase() === me.interface.toLowerCase());
    const buttons = h("div", { class: "spy-buttons" });
    for (const mode of SPY_MODES) {
      const active = mine && mine.mode === mode;
      buttons.append(h("button", { type: "button", class: active ? "small active" : "small secondary",
        title: label("spy_hints", mode), "data-testid": `${prefix}spy-${mode}`, disabled: active ? "" : null,
        onclick: () => supervise(call, mode, Boolean(mine)) }, label("spy_buttons", mode)));
    }
    if (mine) {
      buttons.append(h("button", { type: "button", class: "small danger", "data-testid": `${prefix}spy-stop`,
        onclick: () => supervise(call, null) }, "Завершить"));
    }
    return buttons;
  }

  /** The buttons of a call in conversation, and who listens to it. */
  function supervisionCell(call) {
    const cell = h("td", { class: "supervision" });
    for (const l of call.listeners || []) {
      cell.append(h("div", { class: `listener spy-${l.mode}`, "data-testid": "board-listener",
        "data-mode": l.mode }, listenerText(l)));
    }
    if (call.state === "talking" && call.id) cell.append(spyButtons(call, ""));
    return cell;
  }

  /** An 8-800 line as the figures print it («8-800-775-85-65»). */
  function lineTitle(number) {
    return (dict && dict.lines && dict.lines[number]) || number;
  }

  /** An organization's name for its code (the board's calls carry codes). */
  function orgTitle(code) {
    const org = dict && dict.organizations.find((o) => o.code === code);
    return org ? org.name : code;
  }

  function since(iso) {
    if (!iso) return "—";
    return fmt.duration(Math.max(0, (Date.now() - new Date(iso).getTime()) / 1000));
  }

  /** How long an operator has been in their state: "4:05", past an hour "2 ч 05 мин". */
  function elapsed(iso) {
    const seconds = Math.max(0, (Date.now() - new Date(iso).getTime()) / 1000);
    if (seconds < 3600) return fmt.duration(seconds);
    const minutes = Math.floor(seconds / 60);
    return `${Math.floor(minutes / 60)} ч ${String(minutes % 60).padStart(2, "0")} мин`;
  }

  /** With several PBXs (sites), the one a call came through, under its line. */
  function siteOf(call) {
    const site = board && board.pbxs && board.pbxs.find((p) => p.name === call.pbx);
    return site ? h("div", { class: "muted small", "data-testid": "board-call-pbx" }, site.title) : null;
  }

  function callRow(call) {
    const waiting = call.state === "queued" || call.state === "ringing" || !call.answered_at;
    return h("tr", { class: waiting ? "waiting" : "", "data-testid": "board-call", "data-state": call.state },
      h("td", {}, label("call_states", call.state)),
      h("td", { class: "num ticking", "data-since": waiting ? call.started_at : call.answered_at },
        waiting ? since(call.started_at) : since(call.answered_at)),
      h("td", {}, call.line ? lineTitle(call.line) : "—", call.organization ? h("span", { class: "muted small" }, ` ${orgTitle(call.organization)}`) : null,
        siteOf(call)),
      h("td", { class: "nowrap" }, fmt.phone(call.caller_number) || "скрыт"),
      h("td", {}, call.queue ? (dict && dict.queues && dict.queues[call.queue]) || call.queue : "—"),
      h("td", {}, call.current_operator ? Admin.operatorName(staff, call.current_operator) : "—"),
      supervisionCell(call));
  }

  function lineRows() {
    const lines = board && board.lines.length ? board.lines
      : Object.values(modes).map((m) => ({ number: m.line, organization: m.organization, mode: m.mode }));
    return lines.map((line) => {
      const m = modes[line.number];
      const next = m && m.next_switch
        ? `${fmt.dateTime(m.next_switch.at)} → ${label("line_modes", m.next_switch.mode)} (${m.next_switch.reason.text})`
        : "—";
      const mode = line.mode || (m && m.mode);
      const org = dict && dict.organizations.find((o) => o.code === line.organization);
      return h("tr", { "data-testid": "board-line", "data-line": line.number },
        h("td", {}, lineTitle(line.number), h("div", { class: "muted small" }, org ? org.name : line.organization)),
        h("td", {}, h("span", { class: `badge mode-${mode}` }, label("line_modes", mode)),
          m && m.reason ? h("div", { class: "muted small" }, m.reason.text) : null),
        h("td", { class: "small" }, next));
    });
  }

  function operatorRows() {
    const agents = Object.fromEntries(((board && board.agents) || []).map((a) => [a.interface, a]));
    const talking = new Map();
    const listened = new Map();
    const calls = new Map();
    for (const call of (board && board.calls) || []) {
      if (call.current_operator) talking.set(call.current_operator, call.state);
      if (call.current_operator) calls.set(call.current_operator, call);
      if (call.current_operator && (call.listeners || []).length) listened.set(call.current_operator, call.listeners);
    }
    const operators = staff.items.filter((u) => u.role === "operator" && u.interface && u.active);
    return operators.map((u) => {
      const agent = agents[u.interface];
      const known = agent && agent.state !== "unknown";
      // Once the PBX listed every queue member, a phone it did not list is in no queue.
      const missing = label("agent_states", board && board.roster_complete ? "out" : "unknown");
      let state = agent ? label("agent_states", agent.state) : missing;
      if (agent && agent.state === "paused" && agent.paused_reason
          && agent.paused_reason.toLowerCase() !== "перерыв") state += `: ${agent.paused_reason}`;
      // The phone as the PBX reports it; before its first report, what the calls tell.
      const call = talking.get(u.interface);
      let device = agent && agent.device ? label("devices", agent.device) : "—";
      if ((!agent || !agent.device) && call) device = call === "ringing" ? "звонит" : "на звонке";
      const busy = call || (agent && ["in_use", "ringing", "ringing_in_use", "busy", "on_hold"].includes(agent.device));
      const since = known ? agent.changed_at : null;
      return h("tr", {
        "data-testid": "board-operator", "data-interface": u.interface,
        "data-state": agent ? agent.state : "unknown", "data-device": (agent && agent.device) || "",
        class: [busy ? "busy" : "", agent && agent.state === "unavailable" ? "unavailable" : ""].join(" ").trim(),
      },
        h("td", {}, u.full_name, u.level ? h("span", { class: "muted small" }, ` ${u.level} ур.`) : null),
        h("td", {}, u.interface.replace(/^PJSIP\//, "")),
        h("td", {}, state),
        h("td", { class: "small" }, since ? fmt.time(since) : "—",
          since ? h("span", { class: "muted ticking-agent", "data-since": since }, ` (${elapsed(since)})`) : null),
        h("td", {}, device, ...(listened.get(u.interface) || []).map((l) =>
          h("div", { class: "muted small", "data-testid": "operator-listener" }, listenerText(l))),
          // The same controls on the operator's row: a supervisor often looks for the person.
          ...(calls.get(u.interface) && calls.get(u.interface).state === "talking" && calls.get(u.interface).id
            ? [spyButtons(calls.get(u.interface), "operator-")] : [])),
        h("td", { class: "num" }, agent && agent.calls_taken !== null && agent.calls_taken !== undefined
          ? String(agent.calls_taken) : "—"));
    });
  }

  function render() {
    if (board) {
      // A call whose operator's phone is still ringing waits for an answer too.
      const waiting = board.calls.filter((c) => c.state === "queued" || c.state === "ringing").length;
      document.getElementById("count-waiting").textContent = String(waiting);
      document.getElementById("count-talking").textContent = String(board.talking);
      // Several PBXs: each site's link by its title.
      document.getElementById("count-pbx").textContent = board.pbxs
        ? board.pbxs.map((p) => `${p.title}: ${label("pbx_links", p.state)}`).join("; ")
        : label("pbx_links", board.pbx);
      const body = document.querySelector("#board-calls tbody");
      body.replaceChildren(...board.calls.map(callRow));
      if (!board.calls.length) body.append(h("tr", {}, h("td", { colspan: 7, class: "empty" }, "Сейчас звонков нет")));
    }
    document.querySelector("#board-lines tbody").replaceChildren(...lineRows());
    if (staff) document.querySelector("#board-operators tbody").replaceChildren(...operatorRows());
  }

  async function loadModes() {
    try {
      const result = await Hotline.api("GET", "/api/v1/modes");
      modes = Object.fromEntries(result.items.map((m) => [m.line, m]));
      render();
    } catch (err) {
      Hotline.fail(err);
    }
  }

  function tick() {
    for (const cell of document.querySelectorAll("td.ticking")) {
      cell.textContent = since(cell.dataset.since);
    }
    for (const span of document.querySelectorAll(".ticking-agent")) {
      span.textContent = ` (${elapsed(span.dataset.since)})`;
    }
  }

  Promise.all([Admin.staff(), Admin.dictionaries(), Hotline.api("GET", "/api/v1/me")]).then(([s, d, m]) => {
    staff = s;
    dict = d;
    me = m && m.user ? m.user : m;
    render();
    loadModes();
    setInterval(loadModes, 60000);
    setInterval(tick, 1000);
    const status = document.getElementById("live-status");
    // The figures panel and the alerts' banner (board_figures.js).
    const figures = BoardFigures.setup((iface) => Admin.operatorName(staff, iface));
    Hotline.live({
      figures: figures.figures,
      alerts: figures.alerts,
      board: (msg) => { board = msg; render(); },
      status: (up) => {
        status.textContent = up ? "в реальном времени" : "нет связи — переподключение";
        status.className = up ? "badge ok" : "badge bad";
      },
    });
  }).catch(Hotline.fail);
})();
