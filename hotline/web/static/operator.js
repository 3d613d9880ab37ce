/* The operator's workspace: the agent state bar, the live channel (screen-pops, agent state,
   call state), the ringing call with the caller's earlier cards and the answer scripts, the
   transfer to level 2 (only while talking), the deferred answer, and the operator's own
   callbacks and cards.
   The card form itself is CardEditor (operator-card.js). Every value shown is put in with
   textContent (Hotline.h), never parsed as HTML. */
"use strict";

(() => {
  const { h, api, toast, fail, fmt } = Hotline;
  const page = Hotline.pageData();
  const me = page.user;
  const $ = (id) => document.getElementById(id);
  const CONTEXT_KEY = `hotline.workspace.${me.id}`;
  // The agent's, phone's, PBX's, callbacks' and cards' states by the API's titles.
  const { label } = Hotline;
  const ORIGINAL_TITLE = document.title;

  let dict = null;
  // What the workspace shows: the call (from the pop) and the scripts it came with.
  let context = { call: null, card_id: null, earlier: [], scripts: [], transferred: false, leg: null };
  // call_state messages by call and phone: one may come before its call's screen-pop.
  const legs = new Map();
  let cardsPage = 1;

  // ------------------------------------------------------------------ agent state

  function renderAgent(agent) {
    const state = agent.state || "unknown";
    const badge = $("agent-state");
    badge.className = `agent-badge state-${state}`;
    badge.dataset.state = state;
    // «Перерыв: обед», but not «Перерыв: перерыв».
    const reason = agent.paused_reason && agent.paused_reason.toLowerCase() !== "перерыв" ? agent.paused_reason : "";
    const title = label("agent_badges", state);
    badge.textContent = state === "paused" && reason ? `${title}: ${reason}` : title;
    $("agent-queue").textContent = agent.queue
      ? `очередь: ${queueTitle(agent.queue)}${agent.changed_at && state !== "unknown" ? ` · с ${fmt.time(agent.changed_at)}` : ""}` : "";
    const phone = [];
    if (agent.device) phone.push(`телефон ${label("devices", agent.device)}`);
    if (agent.calls_taken !== null && agent.calls_taken !== undefined) phone.push(`принято звонков: ${agent.calls_taken}`);
    $("agent-phone").textContent = phone.join(" · ");
    $("agent-phone").dataset.device = agent.device || "";
    $("agent-join").hidden = state === "ready" || state === "paused" || state === "unavailable";
    $("agent-unpause").hidden = state !== "paused";
    for (const el of document.querySelectorAll(".pause-group")) el.hidden = state !== "ready";
    $("agent-leave").hidden = state === "out";
  }

  function renderPbx(state) {
    const el = $("conn-pbx");
    el.dataset.state = state === "connected" ? "on" : state === "connecting" ? "wait" : "off";
    el.textContent = `АТС: ${label("pbx_links", state)}`;
  }

  async function refreshAgent() {
    if (!me.interface) {
      $("agent-bar").classList.add("no-phone");
      $("agent-state").textContent = "За вами не закреплён телефон: очередь недоступна";
      for (const id of ["agent-join", "agent-unpause", "agent-leave"]) $(id).hidden = true;
      for (const el of document.querySelectorAll(".pause-group")) el.hidden = true;
      return;
    }
    try {
      const body = await api("GET", "/api/v1/agent");
      renderAgent(body.agent);
      renderPbx(body.pbx);
      // Without a PBX there is no queue to join: cards can still be worked on.
      document.querySelector(".agent-actions").hidden = body.pbx === "disabled";
    } catch (err) {
      if (err.code === "network") renderPbx("unknown");
    }
  }

  async function agentAction(path, body, button) {
    button.disabled = true;
    try {
      const out = await api("POST", path, body);
      renderAgent(out.agent);
    } catch (err) {
      fail(err);
    } finally {
      button.disabled = false;
    }
  }

  function initAgentBar() {
    const select = $("pause-reason");
    select.replaceChildren(...page.pause_reasons.map((r) => h("option", { value: r }, r)));
    select.addEventListener("change", () => {
      $("pause-other").hidden = select.value !== "другое";
      if (!$("pause-other").hidden) $("pause-other").focus();
    });
    $("agent-join").addEventListener("click", (e) => agentAction("/api/v1/agent/join", undefined, e.currentTarget));
    $("agent-unpause").addEventListener("click", (e) => agentAction("/api/v1/agent/unpause", undefined, e.currentTarget));
    $("agent-leave").addEventListener("click", (e) => agentAction("/api/v1/agent/leave", undefined, e.currentTarget));
    $("agent-pause").addEventListener("click", (e) => {
      const other = $("pause-other").value.trim();
      const reason = select.value === "другое" ? other || "другое" : select.value;
      agentAction("/api/v1/agent/pause", { reason }, e.currentTarget);
    });
  }

  // ------------------------------------------------------------------ the call

  function saveContext() {
    const open = { open_card_id: (CardEditor.current() || {}).id || null };
    try { sessionStorage.setItem(CONTEXT_KEY, JSON.stringify({ ...context, ...open })); } catch (err) { /* private mode */ }
  }

  /** Transfer only the call's own card, by a level-1 operator, once. */
  function renderTransfer() {
    const card = CardEditor.current();
    const button = $("card-transfer");
    button.hidden = me.level === 2 || !context.call || !context.call.id || !card || card.id !== context.card_id;
    // The PBX transfers only a call being talked on: not while the phone rings, nor after.
    const leg = context.leg;
    const talking = Boolean(leg && leg.state === "talking" && !leg.consultation);
    button.disabled = context.transferred || !talking;
    button.title = talking || context.transferred ? "" : "Перевести можно во время разговора";
    $("back-to-call").hidden = !context.card_id || (card && card.id === context.card_id);
  }

  function renderCall() {
    const call = context.call;
    document.body.dataset.callId = call && call.id ? String(call.id) : "";
    renderTransfer();
    $("call-empty").hidden = Boolean(call);
    $("call-info").hidden = !call;
    if (!call) return;
    $("caller-number").textContent = formatPhone(call.caller_number) || "номер скрыт";
    $("caller-name").textContent = call.caller_name || "";
    const state = $("call-state");
    if (context.transferred) { state.textContent = "переведён на 2 уровень"; state.className = "badge warn"; }
    else if (call.consultation) { state.textContent = "консультация перед переводом"; state.className = "badge warn"; }
    else if (call.transfers) { state.textContent = "переведён с 1 уровня"; state.className = "badge warn"; }
    else { state.textContent = "входящий"; state.className = "badge ok"; }
    // With several PBXs (sites), which one the call came through.
    $("call-line").textContent = (call.line ? lineTitle(call.line) : "—")
      + (call.pbx_title ? `, ${call.pbx_title}` : "");
    $("call-org").textContent = orgName(call.organization);
    $("call-queue").textContent = call.queue ? queueTitle(call.queue) : "—";
    $("call-time").textContent = fmt.time(call.ringing_at || call.started_at);
    renderProgress();
  }

  function legKey(pbxCallId, iface) { return `${pbxCallId}|${(iface || "").toLowerCase()}`; }

  /** Where this operator's leg of the popped call is: ringing, talking (a ticking timer),
      transferred or ended. Re-run every second while talking. */
  function renderProgress() {
    const el = $("call-progress");
    const leg = context.leg;
    const state = context.transferred && (!leg || leg.state !== "ended") ? "transferred" : leg ? leg.state : "ringing";
    el.dataset.state = state;
    const end = leg && leg.ended_at ? new Date(leg.ended_at) : state === "talking" ? new Date() : null;
    const talked = leg && leg.answered_at && end
      ? fmt.duration(Math.max(0, (end - new Date(leg.answered_at)) / 1000)) : null;
    if (state === "talking") el.textContent = `${leg.consultation ? "Консультация" : "Разговор"} ${talked}`;
    else if (state === "transferred") el.textContent = "Переведён на 2 уровень";
    else if (state === "ended") {
      el.textContent = leg.reason === "no_answer" ? "Звонок не принят"
        : talked ? `Звонок завершён · разговор ${talked}` : "Звонок завершён";
    } else el.textContent = "Звонит…";
  }

  /** On (re)connecting: the calls live at this phone now. The popped call, if it was still
      ringing or talking and is not among them, ended while the page was away. */
  function onCallLegs(msg) {
    const live = new Set(msg.legs.map((leg) => legKey(leg.pbx_call_id, leg.interface)));
    for (const leg of msg.legs) onCallState(leg);
    const call = context.call, leg = context.leg;
    if (call && !context.transferred && (!leg || leg.state === "ringing" || leg.state === "talking")
        && !live.has(legKey(call.pbx_call_id, call.interface))) {
      onCallState({ ...(leg || {}), pbx_call_id: call.pbx_call_id, interface: call.interface,
        state: "ended", ended_at: null, reason: "" });
    }
  }

  function onCallState(msg) {
    legs.set(legKey(msg.pbx_call_id, msg.interface), msg);
    const call = context.call;
    if (!call || legKey(call.pbx_call_id, call.interface) !== legKey(msg.pbx_call_id, msg.interface)) return;
    context.leg = msg;
    if (msg.id && !call.id) call.id = msg.id;
    if (msg.state === "ended" || msg.state === "transferred") calmDown();
    renderCall();
    saveContext();
  }

  function formatPhone(number) {
    return fmt.phone(number);
  }

  /** An 8-800 line as the board and the figures print it («8-800-775-85-65»). */
  function lineTitle(number) {
    return (dict && dict.lines && dict.lines[number]) || formatPhone(number);
  }

  /** A PBX queue («l1-tfoms») as people say it («1 уровень — ТФОМС Алтайского края»). */
  function queueTitle(name) {
    return (dict && dict.queues && dict.queues[name]) || name;
  }

  function orgName(code) {
    if (!code) return "—";
    const org = dict && dict.organizations.find((o) => o.code === code);
    return org ? org.name : code;
  }

  function renderEarlier() {
    const list = $("earlier-list");
    const items = context.earlier || [];
    list.replaceChildren(...items.map((c) => h("li", { class: `earlier status-${c.status}`, dataset: { status: c.status } },
      h("button", { type: "button", class: "link-like", title: "Открыть карточку", onclick: () => openCard(c.id) }, c.number),
      " ", h("span", { class: `badge status-${c.status}` }, statusTitle(c.status)),
      h("div", { class: "muted small" }, fmt.dateTime(c.received_at), c.topic_code ? ` · ${topicTitle(c.topic_code)}` : ""),
      c.content ? h("div", { class: "small clamp" }, c.content) : null)));
    const empty = $("earlier-empty");
    empty.hidden = items.length > 0;
    empty.textContent = context.call ? "С этого номера обращений не было." : "Появятся вместе со звонком.";
  }

  function statusTitle(status) {
    return label("card_statuses", status);
  }

  function topicTitle(code) {
    const topic = dict && dict.topics.find((t) => t.code === code);
    return topic ? `${code} ${topic.title}` : code;
  }

  // ------------------------------------------------------------------ scripts

  let library = null; // every script the operator may read (GET /api/v1/scripts), once loaded

  async function loadScripts() {
    try {
      library = (await api("GET", "/api/v1/scripts?active=1")).items;
    } catch (err) {
      library = []; // the pops still bring their scripts
    }
    renderScripts();
  }

  /** The library and the pop's scripts, those of the card's topic first; filtered by every
      word typed (title, keywords, text or topic code). */
  function renderScripts() {
    const query = $("script-search").value.trim().toLowerCase();
    const words = query.split(/\s+/).filter(Boolean);
    const byId = new Map([...(library || []), ...(context.scripts || [])].map((s) => [s.id, s]));
    const scripts = [...byId.values()];
    const card = CardEditor.current();
    const topic = card ? CardEditor.values().topic_code : null;
    const fits = (s) => Boolean(topic && s.topic_code && (topic === s.topic_code || topic.startsWith(`${s.topic_code}.`)));
    const shown = scripts.filter((s) => {
      const text = `${s.title} ${s.keywords || ""} ${s.body} ${s.topic_code || ""}`.toLowerCase();
      return words.every((w) => text.includes(w));
    }).sort((a, b) => Number(fits(b)) - Number(fits(a)) || a.title.localeCompare(b.title, "ru"));
    $("script-list").replaceChildren(...shown.map((s) => h("details", { class: "script", open: shown.length === 1 || null },
      h("summary", {}, s.title, s.topic_code ? h("span", { class: "muted small" }, ` · ${s.topic_code}`) : null),
      s.keywords ? h("div", { class: "muted small" }, `Ключевые слова: ${s.keywords}`) : null,
      h("div", { class: "script-body" }, s.body))));
    const empty = $("scripts-empty");
    empty.hidden = shown.length > 0;
    empty.textContent = !scripts.length
      ? (library === null ? "Загрузка скриптов…" : "Скриптов ответов пока нет: их добавляет администратор.")
      : `По запросу «${$("script-search").value.trim()}» ничего не найдено.`;
  }

  // ------------------------------------------------------------------ screen-pop

  function alertRinging(call) {
    const panel = $("call-panel");
    panel.classList.remove("ringing");
    void panel.offsetWidth; // restart the flash animation
    panel.classList.add("ringing");
    document.title = `☎ ${formatPhone(call.caller_number) || "Звонок"} — ${ORIGINAL_TITLE}`;
  }

  function calmDown() {
    if (document.title !== ORIGINAL_TITLE) document.title = ORIGINAL_TITLE;
    $("call-panel").classList.remove("ringing");
  }

  async function onPop(msg) {
    const sameCall = context.call && context.call.pbx_call_id === msg.call.pbx_call_id
      && context.call.interface === msg.call.interface;
    context = {
      call: msg.call,
      card_id: msg.card ? msg.card.id : null,
      earlier: msg.earlier_cards && msg.earlier_cards.length ? msg.earlier_cards : (sameCall ? context.earlier : []),
      scripts: msg.scripts && msg.scripts.length ? msg.scripts : context.scripts,
      transferred: false,
      leg: legs.get(legKey(msg.call.pbx_call_id, msg.call.interface))
        || (sameCall ? context.leg : null),
    };
    renderCall();
    renderEarlier();
    renderScripts();
    // A call popped on connecting (sign-in, reload, a second browser) that is already being
    // talked on does not flash as ringing: it is shown as it is.
    const talking = context.leg && context.leg.state === "talking";
    if (!sameCall && !(msg.call.resumed && talking)) alertRinging(msg.call);
    if (!msg.card) {
      if (msg.card_pending) CardEditor.showPending();
      saveContext();
      return;
    }
    const current = CardEditor.current();
    if (!current || current.id !== msg.card.id) CardEditor.open(msg.card);
    saveContext();
    try {
      CardEditor.merge(await api("GET", `/api/v1/cards/${msg.card.id}`));
    } catch (err) {
      fail(err);
    }
  }

  /** Open a card in the editor; `scroll` brings it into view (a click in a list below). */
  async function openCard(id, { scroll = true } = {}) {
    try {
      const card = await api("GET", `/api/v1/cards/${id}`);
      CardEditor.open(card);
      saveContext();
      if (scroll) $("card-panel").scrollIntoView({ block: "start", behavior: "smooth" });
    } catch (err) {
      fail(err);
    }
  }

  // ------------------------------------------------------------------ transfer

  async function transfer() {
    const call = context.call;
    const card = CardEditor.current();
    if (!call || !call.id || !card) return;
    const button = $("card-transfer");
    button.disabled = true;
    try {
      // The card follows the call with the notes made so far: save them first.
      const extra = card.responsible_level === 2 ? {} : { responsible_level: 2 };
      const savedCard = await CardEditor.save(extra, { quiet: true });
      if (!savedCard) { button.disabled = false; return; }
      await api("POST", `/api/v1/calls/${call.id}/transfer`, { to: "level2" });
      context.transferred = true;
      renderCall();
      saveContext();
      toast("Звонок переведён на 2 уровень; карточка передана вместе с вашими заметками", "ok", 6000);
    } catch (err) {
      button.disabled = false;
      fail(err);
    }
  }

  // ------------------------------------------------------------------ deferred answer

  /** "YYYY-MM-DDTHH:MM" in the region's time zone (what a datetime-local input shows). */
  function zonedInput(date) {
    const parts = Object.fromEntries(new Intl.DateTimeFormat("en-GB", {
      timeZone: Hotline.tz, year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", hourCycle: "h23",
    }).formatToParts(date).map((p) => [p.type, p.value]));
    return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}`;
  }

  /** The moment a datetime-local value names in the region's time zone, as ISO 8601 UTC. */
  function zonedToIso(value) {
    const [day, time] = value.split("T");
    const [y, mo, d] = day.split("-").map(Number);
    const [hh, mi] = time.split(":").map(Number);
    const guess = Date.UTC(y, mo - 1, d, hh, mi);
    const shown = zonedInput(new Date(guess));
    const [sd, st] = shown.split("T");
    const [sy, smo, sdd] = sd.split("-").map(Number);
    const [sh, smi] = st.split(":").map(Number);
    const offset = Date.UTC(sy, smo - 1, sdd, sh, smi) - guess;
    return new Date(guess - offset).toISOString();
  }

  function openDefer() {
    const card = CardEditor.current();
    if (!card) return;
    const vals = CardEditor.values();
    const formEl = $("defer-form");
    formEl.hidden = false;
    $("d-contact_phone").value = vals.applicant_phone || (context.call && context.call.caller_number) || "";
    $("d-contact_name").value = vals.applicant_name || "";
    const due = new Date(Date.now() + 2 * 3600 * 1000);
    due.setUTCMinutes(Math.ceil(due.getUTCMinutes() / 15) * 15, 0, 0);
    $("d-callback_due_at").value = zonedInput(due);
    $("d-callback_due_at").min = zonedInput(new Date());
    $("defer-error").hidden = true;
    for (const el of formEl.querySelectorAll(".field-error")) el.textContent = "";
    formEl.scrollIntoView({ block: "nearest", behavior: "smooth" });
    $("d-contact_phone").focus();
  }

  async function submitDefer(event) {
    event.preventDefault();
    const formEl = $("defer-form");
    for (const el of formEl.querySelectorAll(".field-error")) el.textContent = "";
    $("defer-error").hidden = true;
    const due = $("d-callback_due_at").value;
    if (!due) {
      CardEditor.showError({ message: "Укажите, до какого времени перезвонить", details: { field: "callback_due_at" } }, formEl);
      return;
    }
    const button = $("defer-submit");
    button.disabled = true;
    try {
      let card = CardEditor.current();
      if (CardEditor.needsSave()) {
        card = await CardEditor.save({}, { quiet: true });
        if (!card) return;
      }
      await api("POST", "/api/v1/callbacks", {
        card_id: card.id, version: card.version,
        contact_phone: $("d-contact_phone").value.trim(),
        contact_name: $("d-contact_name").value.trim() || null,
        callback_due_at: zonedToIso(due),
        note: $("d-note").value.trim() || null,
      });
      formEl.hidden = true;
      $("d-note").value = "";
      toast(`Обратный звонок запланирован до ${fmt.dateTime(zonedToIso(due))}`, "ok", 5000);
      CardEditor.open(await api("GET", `/api/v1/cards/${card.id}`));
      refreshCallbacks();
    } catch (err) {
      if (err.details && err.details.field === "applicant_phone") err.details.field = "contact_phone";
      if (err.code === "conflict") CardEditor.showError(err);
      else CardEditor.showError(err, formEl);
    } finally {
      button.disabled = false;
    }
  }

  // ------------------------------------------------------------------ callbacks

  let callbacks = [];
  let queue = [];
  let callbacksTimer = null;

  /** Each list is an audited read of citizens' numbers: fetched when the live channel says
      they changed (a colleague took or dials one, a card was done) or every few minutes,
      while the overdue marks are recomputed locally every minute. */
  async function refreshCallbacks() {
    const status = $("callbacks-status").value;
    try {
      const [mine, queued] = await Promise.all([
        api("GET", `/api/v1/callbacks?assigned=me&status=${encodeURIComponent(status)}&limit=100`),
        api("GET", "/api/v1/callbacks?assigned=none&limit=100"),
      ]);
      callbacks = mine.items;
      queue = queued.items;
      renderCallbacks();
    } catch (err) {
      fail(err);
    }
  }

  /** Several changes in a burst make one read. */
  function callbacksChanged() {
    clearTimeout(callbacksTimer);
    callbacksTimer = setTimeout(refreshCallbacks, 300);
  }

  /** A due time as the line's region reads it (its zone named when it is not the service's). */
  function dueTime(iso, zone) {
    const tz = zone || Hotline.tz;
    const text = new Intl.DateTimeFormat("ru-RU", { timeZone: tz, day: "2-digit", month: "2-digit",
      year: "numeric", hour: "2-digit", minute: "2-digit" }).format(new Date(iso));
    if (tz === Hotline.tz) return text;
    const offset = new Intl.DateTimeFormat("ru-RU", { timeZone: tz, timeZoneName: "shortOffset" })
      .formatToParts(new Date(iso)).find((p) => p.type === "timeZoneName");
    return `${text} (${offset ? offset.value : tz})`;
  }

  function callbackItem(t, actions) {
    const overdue = t.status === "pending" && Date.parse(t.due_at) < Date.now();
    const status = t.dialling ? "dialing" : t.status;
    return h("li", { class: `callback callback-${status}${overdue ? " overdue" : ""}`, dataset: { id: t.id, status } },
      h("div", { class: "callback-main" },
        h("strong", {}, t.contact_name || "Гражданин"), " ",
        h("span", { class: "phone" }, formatPhone(t.contact_phone))),
      h("div", { class: "small" },
        h("span", { class: overdue ? "overdue-text" : "muted", dataset: { testid: "callback-due" } },
          `${overdue ? "просрочен: " : "до "}${dueTime(t.due_at, t.zone)}`),
        " · ", h("span", { class: "badge", dataset: { testid: "callback-status" } }, label("callback_statuses", status))),
      t.note ? h("div", { class: "small clamp" }, t.note) : null,
      h("div", { class: "callback-actions" },
        h("button", { type: "button", class: "link-like", onclick: () => openCard(t.card_id) }, `РКК ${t.card_number || t.card_id}`),
        ...actions));
  }

  function renderCallbacks() {
    $("callbacks-list").replaceChildren(...callbacks.map((t) => callbackItem(t,
      t.status === "pending" && !t.dialling
        ? [h("button", { type: "button", class: "primary small-button", onclick: (e) => dial(t, e.currentTarget) }, "Позвонить")] : [])));
    $("callbacks-empty").hidden = callbacks.length > 0;
    $("queue-list").replaceChildren(...queue.map((t) => callbackItem(t, t.dialling ? [] : [
      h("button", { type: "button", class: "small-button", dataset: { testid: "callback-take" }, onclick: (e) => takeCallback(t, e.currentTarget) }, "Взять"),
      h("button", { type: "button", class: "primary small-button", onclick: (e) => dial(t, e.currentTarget) }, "Позвонить")])));
    $("queue-empty").hidden = queue.length > 0;
    const overdue = queue.filter((t) => Date.parse(t.due_at) < Date.now()).length;
    $("queue-count").textContent = queue.length ? `${queue.length}${overdue ? `, просрочено ${overdue}` : ""}` : "";
  }

  async function takeCallback(task, button) {
    button.disabled = true;
    try {
      await api("POST", `/api/v1/callbacks/${task.id}/take`);
      toast(`Обратный звонок ${formatPhone(task.contact_phone)} теперь ваш: он в «Мои обратные звонки»`, "ok", 5000);
    } catch (err) {
      fail(err);
    } finally {
      await refreshCallbacks();
    }
  }

  async function dial(task, button) {
    button.disabled = true;
    try {
      await api("POST", `/api/v1/callbacks/${task.id}/dial`);
      toast(`Сейчас зазвонит ваш телефон; снимите трубку — будет набран ${formatPhone(task.contact_phone)}. Разговор записывается и прикрепляется к карточке.`, "ok", 8000);
      openCard(task.card_id);
    } catch (err) {
      fail(err);
    } finally {
      await refreshCallbacks();
    }
  }

  // ------------------------------------------------------------------ my cards

  async function refreshCards(more = false) {
    cardsPage = more ? cardsPage + 1 : 1;
    const params = new URLSearchParams({ page: String(cardsPage), per_page: "15" });
    if ($("cards-scope").value === "mine") params.set("operator_id", String(me.id));
    if ($("cards-status").value) params.set("status", $("cards-status").value);
    if ($("cards-q").value.trim()) params.set("q", $("cards-q").value.trim());
    try {
      const body = await api("GET", `/api/v1/cards?${params}`);
      const rows = body.items.map((c) => h("tr", { class: `clickable status-${c.status}`, dataset: { id: c.id, status: c.status }, tabindex: "0",
        onclick: () => openCard(c.id), onkeydown: (e) => { if (e.key === "Enter") openCard(c.id); } },
        h("td", {}, c.number),
        h("td", { class: "nowrap" }, fmt.dateTime(c.received_at)),
        h("td", {}, c.anonymous ? "аноним" : c.applicant_name || "—"),
        h("td", { class: "nowrap" }, formatPhone(c.applicant_phone) || "—"),
        h("td", {}, [c.appeal_type && label("appeal_types", c.appeal_type), c.topic_code].filter(Boolean).join(", ") || "—"),
        h("td", {}, h("span", { class: `badge status-${c.status}` }, statusTitle(c.status)))));
      if (more) $("cards-body").append(...rows);
      else $("cards-body").replaceChildren(...rows);
      $("cards-empty").hidden = body.total > 0;
      $("cards-more").hidden = body.page >= body.pages;
      $("cards-total").textContent = body.total ? `Всего: ${body.total}` : "";
    } catch (err) {
      fail(err);
    }
  }

  // ------------------------------------------------------------------ start

  function restoreContext() {
    let saved = null;
    try { saved = JSON.parse(sessionStorage.getItem(CONTEXT_KEY)); } catch (err) { saved = null; }
    if (!saved) return;
    context = {
      call: saved.call, card_id: saved.card_id || null, earlier: saved.earlier || [],
      scripts: saved.scripts || [], transferred: Boolean(saved.transferred),
      leg: saved.leg || null,
    };
    renderCall();
    renderEarlier();
    renderScripts();
    if (saved.open_card_id) openCard(saved.open_card_id, { scroll: false });
  }

  function setLive(connected) {
    const el = $("conn-live");
    el.dataset.state = connected ? "on" : "off";
    el.textContent = connected ? "Сервер: на связи" : "Сервер: нет связи, переподключение…";
    if (connected) refreshAgent();
  }

  async function start() {
    initAgentBar();
    try {
      dict = await Hotline.dictionaries();
    } catch (err) {
      fail(err);
      return;
    }
    CardEditor.init({ dictionaries: dict, user: me.id, level: me.level });
    CardEditor.on("saved", (body) => {
      saveContext();
      refreshCards();
      if (body.callbacks_cancelled) refreshCallbacks(); // «Исполнено» settled the card's callbacks
    });
    CardEditor.on("opened", () => { renderTransfer(); saveContext(); });
    CardEditor.on("closed", (closedId) => {
      if (context.card_id && closedId !== context.card_id) { openCard(context.card_id, { scroll: false }); return; }
      context = { call: null, card_id: null, earlier: [], scripts: context.scripts, transferred: false, leg: null };
      renderCall();
      renderEarlier();
      renderScripts();
      saveContext();
    });
    $("card-transfer").addEventListener("click", transfer);
    $("back-to-call").addEventListener("click", () => openCard(context.card_id));
    $("card-defer").addEventListener("click", openDefer);
    $("defer-cancel").addEventListener("click", () => { $("defer-form").hidden = true; });
    $("defer-form").addEventListener("submit", submitDefer);
    $("script-search").addEventListener("input", renderScripts);
    $("card-form").addEventListener("change", (e) => {
      if (e.target.name === "topic_code" || e.target.name === "appeal_type") renderScripts();
    });
    CardEditor.on("opened", renderScripts);
    $("callbacks-status").addEventListener("change", refreshCallbacks);
    $("cards-filter").addEventListener("submit", (e) => { e.preventDefault(); refreshCards(); });
    $("cards-scope").addEventListener("change", () => refreshCards());
    $("cards-status").addEventListener("change", () => refreshCards());
    $("cards-more").addEventListener("click", () => refreshCards(true));
    for (const type of ["click", "keydown", "focus"]) window.addEventListener(type, calmDown, { capture: true });
    renderCall();
    renderEarlier();
    renderScripts();
    restoreContext();
    Hotline.live({
      status: setLive,
      screen_pop: onPop,
      agent_state: renderAgent,
      call_state: onCallState,
      call_legs: onCallLegs,
      callbacks_changed: callbacksChanged,
    });
    setInterval(() => { if (context.leg && context.leg.state === "talking") renderProgress(); }, 1000);
    refreshAgent();
    refreshCallbacks();
    refreshCards();
    loadScripts();
    setInterval(refreshAgent, 15000);
    setInterval(renderCallbacks, 60000);
    setInterval(refreshCallbacks, 5 * 60000);
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") { refreshAgent(); refreshCallbacks(); }
    });
    document.body.dataset.ready = "true";
  }

  document.addEventListener("DOMContentLoaded", start);
})();
