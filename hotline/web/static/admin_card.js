/* One card (РКК) for the administrator: every field with its Russian title, the full history,
   the calls with operators, transfers and recordings (player and download, each audited by the
   server), the operator evaluation sheet per call, and the steps close / forward / extend /
   cancel, each confirmed in a dialog that shows the API's Russian refusal. A closed card is
   read-only: no steps are offered. */
"use strict";

(() => {
  const { h, fmt } = Hotline;
  const page = Admin.page;
  // The administrator, or the supervisor of the card's organization (the API decides the rest).
  const manages = Boolean(page.is_admin || page.is_supervisor);
  const cardId = page.card_id;
  // Every code is shown by the API's title (Hotline.label).
  const { label } = Hotline;
  const GROUPS = {
    registration: ["number", "status", "received_at", "registered_at", "registered_by_id",
      "receiving_organization_id", "organization_id", "channel", "form", "forwarded_from_body",
      "forwarded_letter_number", "forwarded_letter_date", "forwarded_at"],
    applicant: ["applicant_name", "applicant_birth_date", "applicant_policy", "applicant_address",
      "applicant_phone", "applicant_email", "anonymous", "representative"],
    subject: ["insurer_concerned_id", "medical_org_concerned", "appeal_type", "topic_code",
      "complaint_reasons", "content"],
    result: ["responsible_user_id", "responsible_level", "due_date", "extended_at", "extended_by_id",
      "extension_old_due", "extension_reason", "deferred_contact", "callback_due_at", "measures_taken",
      "justified", "satisfied", "compensation_source", "compensation_sum", "answered_on", "oral_outcome",
      "cancel_reason", "closed_at", "closed_by_id"],
  };
  const DATE_FIELDS = new Set(["applicant_birth_date", "forwarded_letter_date", "due_date",
    "extension_old_due", "answered_on"]);
  const MOMENT_FIELDS = new Set(["received_at", "registered_at", "extended_at", "callback_due_at",
    "forwarded_at", "closed_at", "created_at", "updated_at"]);
  const USER_FIELDS = new Set(["registered_by_id", "responsible_user_id", "extended_by_id", "closed_by_id"]);
  const ORG_FIELDS = new Set(["receiving_organization_id", "organization_id", "insurer_concerned_id"]);
  const BOOL_FIELDS = new Set(["anonymous", "justified", "satisfied"]);

  let dict, staff, card, criteria = [];

  /** A field's (or a history key's) name. */
  function title(field) {
    return label("card_fields", field);
  }

  /** A stored value as a person reads it. */
  function show(field, value) {
    if (value === null || value === undefined || value === "" || (Array.isArray(value) && !value.length)) return "—";
    if (DATE_FIELDS.has(field)) return fmt.date(value);
    if (MOMENT_FIELDS.has(field)) return fmt.dateTime(value);
    if (USER_FIELDS.has(field)) return Admin.userName(staff, value);
    if (ORG_FIELDS.has(field)) return dict.byOrg[value] || `организация №${value}`;
    if (BOOL_FIELDS.has(field)) return Admin.yesNo(value);
    if (field === "status") return label("card_statuses", value);
    if (field === "channel") return label("channels", value);
    if (field === "form") return label("forms", value);
    if (field === "appeal_type") return label("appeal_types", value);
    if (field === "oral_outcome") return label("oral_outcomes", value);
    if (field === "topic_code") return dict.byTopic[value] ? `${value} ${dict.byTopic[value]}` : value;
    if (field === "complaint_reasons") return value.map((c) => (dict.byReason[c] ? `${c} ${dict.byReason[c]}` : c)).join("; ");
    if (field === "compensation_sum") return `${value} ₽`;
    if (field === "applicant_phone") return fmt.phone(value);
    return String(value);
  }

  /** Every field an operator fills is shown, "—" when empty (the administrator sees what is
      missing); processing marks (extension, closing...) only once they happened. */
  function shownEvenEmpty(name) {
    if (name.startsWith("forwarded_letter") || name === "forwarded_from_body") return card.channel === "forwarded";
    if (name === "complaint_reasons" || name === "justified") return card.appeal_type === "complaint";
    if (name === "oral_outcome") return card.form === "oral";
    if (["compensation_source", "compensation_sum", "responsible_user_id", "deferred_contact"].includes(name)) return false;
    return ["number", "status", "received_at", "registered_at", "organization_id", "channel", "form",
      "due_date"].includes(name) || name in dict.fields;
  }

  function renderFields() {
    for (const [group, names] of Object.entries(GROUPS)) {
      const dl = document.getElementById(`fields-${group}`);
      const items = [];
      for (const name of names) {
        const value = card[name];
        if (!shownEvenEmpty(name) && (value === null || value === undefined || value === "" || (Array.isArray(value) && !value.length))) continue;
        const cls = ["content", "measures_taken", "applicant_address"].includes(name) ? "long" : null;
        items.push(h("div", { class: cls ? `field ${cls}` : "field", "data-field": name },
          h("dt", {}, title(name)), h("dd", {}, show(name, value))));
      }
      dl.replaceChildren(...items);
    }
  }

  function renderHead() {
    document.getElementById("card-number").textContent = `Карточка ${card.number}`;
    const badge = document.getElementById("card-status");
    badge.className = `badge status-${card.status}`;
    badge.textContent = label("card_statuses", card.status);
    document.getElementById("card-summary").textContent =
      `${label("channels", card.channel)}, ${label("forms", card.form)}; ` +
      `поступило ${fmt.dateTime(card.received_at)}; срок ответа ${fmt.date(card.due_date)}; ` +
      `на рассмотрении: ${dict.byOrg[card.organization_id] || "—"}`;
    const readOnly = document.getElementById("read-only");
    if (card.status === "closed") {
      readOnly.textContent = `Карточка закрыта ${fmt.dateTime(card.closed_at)} (${Admin.userName(staff, card.closed_by_id)}): только просмотр, изменения невозможны.`;
      readOnly.hidden = false;
    } else if (!manages) {
      readOnly.textContent = "Просмотр карточки. Изменяйте её на рабочем месте оператора.";
      readOnly.hidden = false;
    } else {
      readOnly.hidden = true;
    }
    renderActions();
  }

  // ---------------------------------------------------------------- steps

  async function step(name, body) {
    card = await Hotline.api("POST", `/api/v1/cards/${cardId}/${name}`, { version: card.version, ...body });
    return card;
  }

  function renderActions() {
    const box = document.getElementById("card-actions");
    box.replaceChildren();
    if (!manages || card.status === "closed") return;
    const open = ["draft", "in_work"].includes(card.status);
    if (page.is_admin && ["done", "cancelled"].includes(card.status)) {
      box.append(h("button", { type: "button", class: "primary", "data-testid": "action-close", onclick: doClose }, "Закрыть карточку"));
    }
    if (open) {
      box.append(h("button", { type: "button", "data-testid": "action-forward", onclick: doForward }, "Переслать"));
      if (!card.extended_at) {
        box.append(h("button", { type: "button", "data-testid": "action-extend", onclick: doExtend }, "Продлить срок"));
      }
    }
    if (page.may_correct) {
      box.append(h("button", { type: "button", "data-testid": "action-correct", onclick: doCorrect }, "Исправить"));
    }
    if (open || card.status === "done") {
      box.append(h("button", { type: "button", class: "danger", "data-testid": "action-cancel", onclick: doCancel }, "Аннулировать"));
    }
  }

  // ---------------------------------------------------------------- correction

  // What the administrator may correct (journal.cards.correct): how the appeal came and every
  // field an operator fills.
  const CORRECTABLE = ["received_at", "channel", "forwarded_from_body", "forwarded_letter_number",
    "forwarded_letter_date", "applicant_name", "applicant_birth_date", "applicant_policy",
    "applicant_address", "applicant_phone", "applicant_email", "anonymous", "representative",
    "insurer_concerned_id", "medical_org_concerned", "appeal_type", "topic_code", "complaint_reasons",
    "content", "responsible_level", "measures_taken", "justified", "satisfied", "compensation_source",
    "compensation_sum", "answered_on", "oral_outcome"];
  const LONG_TEXT = new Set(["content", "measures_taken", "applicant_address"]);

  /** The input of one field, holding its current value. */
  function valueInput(name) {
    const value = card[name];
    const select = (pairs, empty) => {
      const el = h("select", { name: "value", "data-testid": "correct-value" },
        h("option", { value: "" }, empty), ...pairs.map(([v, t]) => h("option", { value: String(v) }, t)));
      el.value = value === null || value === undefined ? "" : String(value);
      return el;
    };
    if (BOOL_FIELDS.has(name)) return select([true, false].map((v) => [String(v), Admin.yesNo(v)]), "не указано");
    if (name === "channel") {
      const oral = ["hotline", "secretary"].includes(card.channel);
      return select(dict.channels.filter((c) => ["hotline", "secretary"].includes(c.value) === oral).map((c) => [c.value, c.title]), "—");
    }
    if (name === "appeal_type") return select(dict.appeal_types.map((t) => [t.value, t.title]), "не указан");
    if (name === "topic_code") return select(Admin.topicPairs(dict), "не указана");
    if (name === "oral_outcome") return select(dict.oral_outcomes.map((t) => [t.value, t.title]), "не указан");
    if (name === "responsible_level") return select([1, 2, 3].map((n) => [n, `${n} уровень`]), "не указан");
    if (name === "insurer_concerned_id") {
      return select(dict.organizations.filter((o) => o.kind === "insurer").map((o) => [o.id, o.name]), "не указана");
    }
    if (name === "received_at") {
      const local = new Date(new Date(value).getTime() + offsetMinutes() * 60000).toISOString().slice(0, 16);
      return h("input", { name: "value", type: "datetime-local", value: local, "data-testid": "correct-value" });
    }
    if (DATE_FIELDS.has(name)) return h("input", { name: "value", type: "date", value: value || null, "data-testid": "correct-value" });
    const text = name === "complaint_reasons" ? (value || []).join(", ") : value ?? "";
    if (LONG_TEXT.has(name)) {
      const area = h("textarea", { name: "value", rows: 4, maxlength: 20000, "data-testid": "correct-value" });
      area.value = text;
      return area;
    }
    return h("input", { name: "value", value: String(text), "data-testid": "correct-value" });
  }

  function offsetMinutes() {
    const offset = page.tz_offset || "+00:00";
    const sign = offset[0] === "-" ? -1 : 1;
    return sign * (Number(offset.slice(1, 3)) * 60 + Number(offset.slice(4, 6)));
  }

  /** The typed value as the API takes it. */
  function typedValue(name, raw) {
    const text = raw.trim();
    if (BOOL_FIELDS.has(name)) return name === "anonymous" ? text === "true" : text === "" ? null : text === "true";
    if (name === "complaint_reasons") return text.split(/[,;\s]+/).filter(Boolean);
    if (name === "responsible_level" || name === "insurer_concerned_id") return text ? Number(text) : null;
    if (name === "received_at") return Admin.localMoment(text);
    return text === "" ? null : text;
  }

  /** «Исправить»: one field at a time, its new value and why; the history keeps old → new. */
  function doCorrect() {
    const names = CORRECTABLE.filter((n) => n !== "complaint_reasons" || card.appeal_type === "complaint")
      .filter((n) => !n.startsWith("forwarded_") || card.channel === "forwarded");
    const fieldSelect = h("select", { name: "field", "data-testid": "correct-field" },
      ...names.map((n) => h("option", { value: n }, title(n))));
    const slot = h("label", { class: "correct-value" }, "Новое значение");
    const setInput = () => { slot.replaceChildren("Новое значение", valueInput(fieldSelect.value)); };
    const reason = h("textarea", { name: "reason", rows: 2, maxlength: 2000, "data-testid": "correct-reason" });
    const error = h("p", { class: "form-error", role: "alert", hidden: true, "data-testid": "correct-error" });
    const ok = h("button", { type: "submit", class: "primary", "data-testid": "confirm" }, "Исправить");
    const cancel = h("button", { type: "button", "data-testid": "cancel-dialog" }, "Отмена");
    const form = h("form", { method: "dialog", class: "dialog-form" },
      h("h2", {}, `Исправить карточку ${card.number}`),
      h("p", {}, "Исправление сохраняется в истории карточки: прежнее и новое значение, кто, когда и почему."),
      h("label", {}, "Поле", fieldSelect), slot, h("label", {}, "Причина исправления", reason), error,
      h("div", { class: "actions" }, ok, cancel));
    const dialog = h("dialog", { class: "confirm-dialog", "data-testid": "dialog" }, form);
    document.body.append(dialog);
    fieldSelect.addEventListener("change", setInput);
    setInput();
    const finish = () => { dialog.close(); dialog.remove(); };
    cancel.addEventListener("click", finish);
    dialog.addEventListener("cancel", (e) => { e.preventDefault(); finish(); });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.hidden = true;
      if (!reason.value.trim()) {
        error.textContent = "Укажите причину исправления";
        error.hidden = false;
        return;
      }
      const name = fieldSelect.value;
      ok.disabled = true;
      try {
        card = await Hotline.api("POST", `/api/v1/cards/${cardId}/correct`, {
          version: card.version, reason: reason.value.trim(),
          changes: { [name]: typedValue(name, form.elements.value.value) },
        });
        finish();
        await afterStep(`Исправлено: ${title(name)}`);
      } catch (err) {
        error.textContent = err.message || String(err);
        error.hidden = false;
        ok.disabled = false;
      }
    });
    dialog.showModal();
  }

  async function afterStep(message) {
    Hotline.toast(message, "ok");
    await reload();
  }

  async function doClose() {
    const done = await Admin.confirmDialog({
      title: `Закрыть карточку ${card.number}?`,
      text: "Закрытая карточка больше не изменяется никем, в том числе администратором. Ожидающие обратные звонки по ней отменяются.",
      confirm: "Закрыть", run: () => step("close", {}),
    });
    if (done) {
      await afterStep(done.callbacks_cancelled
        ? "Карточка закрыта; ожидавший обратный звонок отменён" : "Карточка закрыта");
    }
  }

  async function doForward() {
    const others = dict.organizations.filter((o) => o.id !== card.organization_id);
    const done = await Admin.confirmDialog({
      title: `Переслать карточку ${card.number}`,
      text: "Карточка перейдёт в другую организацию и исчезнет из списка текущей; история сохранится.",
      confirm: "Переслать",
      fields: [
        { label: "Организация", name: "to", type: "select", required: true,
          options: [["", "— выберите —"], ...others.map((o) => [String(o.id), o.name])] },
        { label: "Причина пересылки", name: "reason", type: "textarea", required: true },
      ],
      run: (v) => step("forward", { to_organization: Number(v.to), reason: v.reason }),
    });
    if (done) await afterStep("Карточка переслана");
  }

  async function doExtend() {
    const due = card.due_date;
    const limit = due ? Admin.nextDay(due) : "";
    let max = "";
    if (due) {
      const d = new Date(`${due}T12:00:00Z`);
      d.setUTCDate(d.getUTCDate() + 30);
      max = d.toISOString().slice(0, 10);
    }
    const done = await Admin.confirmDialog({
      title: `Продлить срок по карточке ${card.number}`,
      text: `Текущий срок ответа: ${fmt.date(due)}. Срок продлевается один раз, не более чем на 30 дней (59-ФЗ); заявителя нужно уведомить.`,
      confirm: "Продлить",
      fields: [
        { label: "Новый срок", name: "new_due", type: "date", required: true, min: limit, max },
        { label: "Причина продления", name: "reason", type: "textarea", required: true },
      ],
      run: (v) => step("extend", { new_due: v.new_due, reason: v.reason }),
    });
    if (done) await afterStep("Срок продлён");
  }

  async function doCancel() {
    const done = await Admin.confirmDialog({
      title: `Аннулировать карточку ${card.number}?`,
      text: "Карточка не удаляется: она остаётся в журнале с причиной аннулирования.",
      confirm: "Аннулировать", danger: true,
      fields: [{ label: "Причина аннулирования", name: "reason", type: "textarea", required: true }],
      run: (v) => step("cancel", { reason: v.reason }),
    });
    if (done) await afterStep("Карточка аннулирована");
  }

  // ---------------------------------------------------------------- history

  function changeText(field, pair) {
    const [oldValue, newValue] = Array.isArray(pair) ? pair : [null, pair];
    return h("li", {}, h("span", { class: "change-field" }, `${title(field)}: `),
      h("span", { class: "old" }, show(field, oldValue)), " → ", h("span", { class: "new" }, show(field, newValue)));
  }

  async function renderHistory() {
    const body = document.querySelector("#history tbody");
    const { items } = await Hotline.api("GET", `/api/v1/cards/${cardId}/history`);
    body.replaceChildren(...items.slice().reverse().map((row) => h("tr", { "data-testid": "history-row" },
      h("td", { class: "nowrap" }, fmt.dateTime(row.at)),
      h("td", {}, row.user_id ? Admin.userName(staff, row.user_id) : "система (АТС)"),
      h("td", {}, label("audit_actions", row.action)),
      h("td", {}, h("ul", { class: "changes" }, ...Object.entries(row.changes || {}).map(([f, p]) => changeText(f, p)))),
      h("td", {}, row.comment || ""))));
  }

  // ---------------------------------------------------------------- calls

  function recordingItem(rec) {
    const what = `${label("recording_kinds", rec.kind)}, ${fmt.duration(rec.duration_seconds)}`;
    if (rec.status !== "stored") {
      return h("div", { class: "recording" }, h("span", {}, what), " ",
        h("span", { class: "badge bad" }, label("recording_statuses", rec.status)),
        rec.problem ? h("span", { class: "muted small" }, ` ${rec.problem}`) : null);
    }
    return h("div", { class: "recording", "data-testid": "recording" },
      h("div", { class: "recording-head" }, h("span", {}, what),
        h("a", { href: `${rec.audio_url}?download=1`, download: "", "data-testid": "download" }, "Скачать")),
      h("audio", { controls: true, preload: "none", src: rec.audio_url, "data-recording-id": rec.id }),
      h("p", { class: "muted small" }, "Прослушивание и скачивание записываются в журнал доступа."));
  }

  function transferItem(t) {
    const kind = label("transfer_kinds", t.kind);
    const to = t.to_interface ? Admin.operatorName(staff, t.to_interface) : (t.to_queue ? `очередь ${t.to_queue}` : "—");
    return h("li", {}, `${fmt.time(t.at)} ${kind}: ${Admin.operatorName(staff, t.from_interface)} → ${to}`);
  }

  function callOperators(call) {
    const found = new Map();
    if (call.answered_by_id && staff.byId[String(call.answered_by_id)]) {
      found.set(call.answered_by_id, staff.byId[String(call.answered_by_id)]);
    }
    for (const iface of call.operators) {
      const user = staff.byInterface[iface];
      if (user) found.set(user.id, user);
    }
    return [...found.values()];
  }

  function renderCall(call) {
    const box = h("article", { class: "call", id: `call-${call.id}`, "data-testid": "call", "data-call-id": call.id });
    const direction = label("call_directions", call.direction);
    box.append(
      h("h3", {}, `${fmt.dateTime(call.started_at)} — ${direction}, ${label("call_outcomes", call.outcome)}`),
      h("dl", { class: "fields compact" },
        // Several PBXs (sites): which one took the call, by its title.
        Hotline.labelPairs("pbxs").length > 1
          ? h("div", { class: "field" }, h("dt", {}, "АТС"), h("dd", { "data-testid": "call-pbx" }, call.pbx_title || "—"))
          : null,
        h("div", { class: "field" }, h("dt", {}, "Линия"), h("dd", {}, fmt.phone(call.line_number) || "—")),
        h("div", { class: "field" }, h("dt", {}, "Абонент"), h("dd", {}, [fmt.phone(call.caller_number), call.caller_name].filter(Boolean).join(", ") || "—")),
        h("div", { class: "field" }, h("dt", {}, "Ожидание"), h("dd", {}, fmt.duration(call.queue_wait_seconds))),
        h("div", { class: "field" }, h("dt", {}, "Разговор"), h("dd", {}, fmt.duration(call.talk_seconds))),
        h("div", { class: "field" }, h("dt", {}, "Операторы"), h("dd", { "data-testid": "call-operators" },
          call.operators.length ? call.operators.map((i) => Admin.operatorName(staff, i)).join(", ") : "—"))));
    if (call.transfers.length) {
      box.append(h("h4", {}, "Переводы"), h("ul", { class: "transfers" }, ...call.transfers.map(transferItem)));
    }
    box.append(h("h4", {}, "Записи"));
    box.append(call.recordings.length ? h("div", {}, ...call.recordings.map(recordingItem))
      : h("p", { class: "muted" }, "Записей нет"));
    if (manages) {
      const supervision = h("section", { class: "supervision-history", "data-testid": "call-supervision" });
      box.append(supervision);
      renderSupervision(call, supervision);
    }
    const operators = callOperators(call);
    if (manages && operators.length) {
      const sheet = h("section", { class: "evaluation", "data-testid": "evaluation" });
      box.append(sheet);
      renderEvaluations(call, operators, sheet);
    }
    return box;
  }

  async function renderCalls() {
    const holder = document.getElementById("calls");
    const { items } = await Hotline.api("GET", `/api/v1/calls?card_id=${cardId}&limit=50`);
    if (!items.length) {
      holder.replaceChildren(h("p", { class: "muted" }, "Звонков по этой карточке нет (письменное обращение или звонок ещё не записан)."));
      return;
    }
    holder.replaceChildren(...items.map(renderCall));
    if (location.hash) {
      const target = document.querySelector(location.hash);
      if (target) target.scrollIntoView();
    }
  }

  // ---------------------------------------------------------------- supervision


  /** One start, switch or end of listening to the call, from the access log, in words. */
  function supervisionItem(e) {
    const who = e.name || e.login || "—";
    const operator = e.operator ? ` (оператор ${Admin.operatorName(staff, e.operator)})` : "";
    let text;
    if (e.action === "supervise_start") text = `${who}: начало — ${Hotline.label("spy_sessions", e.mode)}${operator}`;
    else if (e.action === "supervise_switch") text = `${who}: режим «${Hotline.label("spy_sessions", e.previous)}» → «${Hotline.label("spy_sessions", e.mode)}»`;
    else {
      const how = e.joined ? `длилось ${fmt.duration(e.seconds || 0)}` : "подключиться не удалось";
      text = `${who}: окончание — ${how}, ${Hotline.label("spy_ended_by", e.ended_by)}`;
    }
    return h("li", { "data-testid": "supervision-event", "data-action": e.action },
      h("span", { class: "muted" }, `${fmt.dateTime(e.at)} `), text);
  }

  async function renderSupervision(call, holder) {
    try {
      const { events } = await Hotline.api("GET", `/api/v1/calls/${call.id}/supervision`);
      if (!events.length) return;
      holder.replaceChildren(h("h4", {}, "Контроль разговора"), h("ul", {}, ...events.map(supervisionItem)));
    } catch (err) {
      holder.replaceChildren(h("p", { class: "muted" }, "Контроль разговора: нет данных"));
    }
  }

  // ---------------------------------------------------------------- evaluation sheet

  function evaluationItem(ev) {
    const scores = criteria.map((c) => h("li", {}, `${c.title}: ${ev.scores[c.code] ?? "—"} из ${c.max_score}`));
    return h("div", { class: "evaluation-item", "data-testid": "evaluation-item" },
      h("div", {}, h("strong", { "data-testid": "evaluation-total" }, `${ev.total}%`), " — ",
        `${Admin.userName(staff, ev.operator_id)}; оценил ${Admin.userName(staff, ev.evaluator_id)} ${fmt.dateTime(ev.at)}`),
      ev.comment ? h("p", { class: "small" }, ev.comment) : null,
      h("details", {}, h("summary", {}, "Баллы по критериям"), h("ul", { class: "small" }, ...scores)));
  }

  async function renderEvaluations(call, operators, sheet) {
    let result;
    try {
      result = await Hotline.api("GET", `/api/v1/evaluations?call_id=${call.id}`);
    } catch (err) {
      sheet.replaceChildren(h("p", { class: "form-error" }, err.message));
      return;
    }
    criteria = result.criteria;
    const error = h("p", { class: "form-error", role: "alert", hidden: true });
    const rows = criteria.map((c) => h("tr", {},
      h("td", {}, c.title),
      h("td", {}, h("select", { name: `score-${c.code}`, "data-criterion": c.code, "aria-label": c.title },
        h("option", { value: "" }, "—"),
        ...Array.from({ length: c.max_score + 1 }, (_, n) => h("option", { value: String(n) }, String(n)))))));
    const operatorSelect = h("select", { name: "operator_id" },
      ...operators.map((u) => h("option", { value: String(u.id), selected: u.id === call.answered_by_id || null }, u.full_name)));
    const comment = h("textarea", { name: "comment", rows: 2, maxlength: 4000 });
    const save = h("button", { type: "submit", class: "primary", "data-testid": "save-evaluation" }, "Сохранить оценку");
    const form = h("form", { class: "evaluation-form", novalidate: true },
      h("label", {}, "Оператор", operatorSelect),
      h("table", { class: "criteria" }, h("thead", {}, h("tr", {}, h("th", {}, "Критерий"), h("th", {}, "Балл"))), h("tbody", {}, ...rows)),
      h("label", {}, "Комментарий", comment), error, h("div", { class: "actions" }, save));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.hidden = true;
      const scores = {};
      for (const c of criteria) {
        const value = form.elements[`score-${c.code}`].value;
        if (value === "") {
          error.textContent = `Оцените: «${c.title}»`;
          error.hidden = false;
          return;
        }
        scores[c.code] = Number(value);
      }
      save.disabled = true;
      try {
        const ev = await Hotline.api("POST", `/api/v1/calls/${call.id}/evaluations`, {
          operator_id: Number(operatorSelect.value), scores, comment: comment.value,
        });
        Hotline.toast(`Оценка сохранена: ${ev.total}%`, "ok");
        await renderEvaluations(call, operators, sheet);
      } catch (err) {
        error.textContent = err.message;
        error.hidden = false;
        save.disabled = false;
      }
    });
    sheet.replaceChildren(
      h("h4", {}, "Оценка работы оператора"),
      result.items.length ? h("div", { class: "evaluations" }, ...result.items.map(evaluationItem))
        : h("p", { class: "muted small" }, "Оценок по этому звонку ещё нет."),
      h("details", { class: "evaluation-sheet", open: result.items.length ? null : true },
        h("summary", {}, "Лист оценки"), form));
  }

  // ---------------------------------------------------------------- loading

  async function reload() {
    card = await Hotline.api("GET", `/api/v1/cards/${cardId}`);
    renderHead();
    renderFields();
    await renderHistory();
  }

  (async () => {
    try {
      [dict, staff] = await Promise.all([Admin.dictionaries(), Admin.staff()]);
      await reload();
      await renderCalls();
    } catch (err) {
      if (err.code === "not_found") {
        document.querySelector("main").replaceChildren(h("section", { class: "panel error-page" },
          h("h1", {}, "Не найдено"), h("p", {}, err.message)));
      } else {
        Hotline.fail(err);
      }
    }
  })();
})();
