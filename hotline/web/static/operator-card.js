/* The card (РКК) editor of the operator's workspace: fills the form from a card, saves only
   what changed (PATCH with the card's version: a newer version on the server is a conflict,
   shown, never overwritten), completes it, and keeps a draft of unsaved typing in
   localStorage so that a reload or a crash loses nothing.

   Drafts are keyed by user id, card id and card version: another user of the same browser
   never gets them, and a draft typed over an older version is offered, not applied silently. */
"use strict";

const CardEditor = (() => {
  const { h } = Hotline;
  const TEXT = ["applicant_name", "applicant_birth_date", "applicant_policy", "applicant_phone",
    "applicant_email", "applicant_address", "content", "measures_taken",
    "appeal_type", "topic_code", "oral_outcome"];
  const EDITABLE_STATUSES = new Set(["draft", "in_work", "done"]);
  const OPEN_STATUSES = new Set(["draft", "in_work"]);
  const DRAFT_PREFIX = "hotline.draft.";
  const DRAFT_MAX_AGE_MS = 3 * 24 * 3600 * 1000;

  let dict = null;
  let userId = null;
  let card = null; // the card as the server last returned it
  let touched = new Set(); // fields the operator changed since the card was opened
  let draftTimer = null;
  let pendingDraft = null; // a draft of an older version, offered for restoring
  let selfAssign = null; // the level-2 operator's user id (see `assignment`)
  const listeners = { saved: [], opened: [], closed: [] };
  const form = () => document.getElementById("card-form");
  const field = (name) => document.getElementById(`f-${name}`);

  // ------------------------------------------------------------------ values

  /** The form's values, normalized as the API stores them (empty text is null). */
  function values() {
    const out = {};
    for (const name of TEXT) {
      const value = field(name).value.trim();
      out[name] = value === "" ? null : value;
    }
    out.applicant_birth_date = isoDate(out.applicant_birth_date);
    out.applicant_phone = storedPhone(out.applicant_phone);
    const insurer = field("insurer_concerned_id").value;
    out.insurer_concerned_id = insurer === "" ? null : Number(insurer);
    out.anonymous = field("anonymous").checked;
    const justified = field("justified").value;
    out.justified = justified === "" ? null : justified === "true";
    out.complaint_reasons = [...document.querySelectorAll("#f-complaint_reasons input:checked")]
      .map((el) => el.value).sort();
    if (out.appeal_type !== "complaint") {
      out.complaint_reasons = [];
      out.justified = card ? card.justified ?? null : null;
    }
    return out;
  }

  /** A card's editable values in the same shape as `values()`. */
  function cardValues(source) {
    const out = {};
    for (const name of TEXT) out[name] = source[name] ?? null;
    out.insurer_concerned_id = source.insurer_concerned_id ?? null;
    out.anonymous = Boolean(source.anonymous);
    out.justified = source.justified ?? null;
    out.complaint_reasons = [...(source.complaint_reasons || [])].sort();
    return out;
  }

  const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
  const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

  /** "15.03.1980" (as typed) → "1980-03-15"; text that is no date stays as typed. */
  function isoDate(text) {
    if (text === null) return null;
    const m = /^(\d{1,2})[.,/ -](\d{1,2})[.,/ -](\d{4})$/.exec(text);
    if (!m) return text;
    const iso = `${m[3]}-${m[2].padStart(2, "0")}-${m[1].padStart(2, "0")}`;
    const day = new Date(`${iso}T12:00:00Z`);
    return Number.isNaN(day.getTime()) || day.toISOString().slice(0, 10) !== iso ? text : iso;
  }

  /** The card's phone as the form shows it: as people write it («+7 913 111-22-55»). */
  function shownPhone(stored) {
    return Hotline.fmt.phone(stored);
  }

  /** The phone as typed, or, while it is the card's phone as shown, the card's own value (the
      PBX's «79131112255» stays what it was: cards are found by it). */
  function storedPhone(text) {
    const stored = card ? card.applicant_phone : null;
    return stored && text === shownPhone(stored) ? stored : text;
  }

  /** "1980-03-15" → "15.03.1980" for the form. */
  function ruDate(iso) {
    if (!iso || !ISO_DATE.test(iso)) return iso || "";
    const [y, m, d] = iso.split("-");
    return `${d}.${m}.${y}`;
  }

  /** Checks the browser can make before asking the server (a date it cannot read). */
  function localError() {
    const birth = values().applicant_birth_date;
    if (birth !== null && !ISO_DATE.test(birth)) {
      return { code: "invalid_input", message: "Дата рождения: введите в виде ДД.ММ.ГГГГ", details: { field: "applicant_birth_date" } };
    }
    return null;
  }

  /** What the operator changed against the card as stored. */
  function changes() {
    if (!card) return {};
    const now = values();
    const base = cardValues(card);
    const out = {};
    for (const [name, value] of Object.entries(now)) {
      if (!same(value, base[name])) out[name] = value;
    }
    return out;
  }

  function fill(vals, only) {
    const skip = (name) => only && !only.has(name);
    if (!skip("appeal_type")) field("appeal_type").value = vals.appeal_type || "";
    renderTopics(vals.appeal_type || "");
    renderComplaintBox(vals.appeal_type || "");
    for (const name of TEXT) {
      if (name === "appeal_type" || skip(name)) continue;
      field(name).value = name === "applicant_birth_date" ? ruDate(vals[name])
        : name === "applicant_phone" ? shownPhone(vals[name]) : vals[name] || "";
    }
    if (!skip("insurer_concerned_id")) {
      const id = vals.insurer_concerned_id;
      const select = field("insurer_concerned_id");
      const value = id === null || id === undefined ? "" : String(id);
      if (value && ![...select.options].some((o) => o.value === value)) {
        // An organization that is no insurer (or unknown here): kept as stored.
        const org = (dict.organizations || []).find((o) => String(o.id) === value);
        select.append(option(value, org ? org.name : value));
      }
      select.value = value;
    }
    if (!skip("anonymous")) field("anonymous").checked = Boolean(vals.anonymous);
    if (!skip("justified")) {
      field("justified").value = vals.justified === null || vals.justified === undefined ? "" : String(vals.justified);
    }
    if (!skip("complaint_reasons")) {
      const codes = new Set(vals.complaint_reasons || []);
      for (const box of document.querySelectorAll("#f-complaint_reasons input")) box.checked = codes.has(box.value);
    }
    refreshButtons();
  }

  // ------------------------------------------------------------------ dictionaries

  function option(value, title, selected) {
    return h("option", { value, selected: selected || null }, title);
  }

  const depth = (code) => code.split(".").length - 1;
  const indent = (code) => "\u00a0\u00a0\u00a0\u00a0".repeat(Math.max(0, depth(code) - 1));

  function renderChoices(select, choices, empty) {
    select.replaceChildren(option("", empty), ...choices.map((c) => option(c.value, c.title)));
  }

  /** Topics of the chosen type (all of them while no type is chosen). */
  function renderTopics(type) {
    const select = field("topic_code");
    const current = select.value;
    const topics = dict.topics.filter((t) => !type || !t.appeal_type || t.appeal_type === type);
    select.replaceChildren(option("", type ? "— выберите тематику —" : "— любая тематика (вид определится по ней) —"),
      ...topics.map((t) => option(t.code, `${indent(t.code)}${t.code} ${t.title}`)));
    if (topics.some((t) => t.code === current)) select.value = current;
  }

  function renderComplaintBox(type) {
    const complaint = type === "complaint";
    for (const el of document.querySelectorAll(".complaint-only")) el.hidden = !complaint;
  }

  function renderReasons() {
    const box = document.getElementById("f-complaint_reasons");
    box.replaceChildren(...dict.complaint_reasons.map((r) => h("label", { class: "reason" },
      h("input", { type: "checkbox", value: r.code, name: "complaint_reasons" }),
      h("span", { class: `reason-code depth-${depth(r.code)}` }, r.code), " ", r.title)));
  }

  // ------------------------------------------------------------------ drafts

  const draftKey = (cardId, version) => `${DRAFT_PREFIX}${userId}.${cardId}.${version}`;
  const cardPrefix = (cardId) => `${DRAFT_PREFIX}${userId}.${cardId}.`;

  function draftKeys(prefix) {
    const keys = [];
    for (let i = 0; i < localStorage.length; i += 1) {
      const key = localStorage.key(i);
      if (key && key.startsWith(prefix)) keys.push(key);
    }
    return keys;
  }

  function readDraft(key) {
    try { return JSON.parse(localStorage.getItem(key)); } catch (err) { return null; }
  }

  /** Keep what the operator typed but has not saved (or forget it when nothing is unsaved). */
  function storeDraft() {
    clearTimeout(draftTimer);
    draftTimer = null;
    if (!card || !EDITABLE_STATUSES.has(card.status)) return;
    const diff = changes();
    const key = draftKey(card.id, card.version);
    try {
      if (Object.keys(diff).length === 0) localStorage.removeItem(key);
      else localStorage.setItem(key, JSON.stringify({ saved_at: new Date().toISOString(), number: card.number, changes: diff }));
    } catch (err) { /* storage full or disabled: the form itself still holds the text */ }
  }

  function scheduleDraft() {
    clearTimeout(draftTimer);
    draftTimer = setTimeout(storeDraft, 300);
  }

  function clearDrafts(cardId) {
    for (const key of draftKeys(cardPrefix(cardId))) localStorage.removeItem(key);
  }

  /** Drafts older than a few days are of no use to anyone and hold personal data. */
  function pruneDrafts() {
    const now = Date.now();
    for (const key of draftKeys(DRAFT_PREFIX)) {
      const draft = readDraft(key);
      if (!draft || !draft.saved_at || now - Date.parse(draft.saved_at) > DRAFT_MAX_AGE_MS) localStorage.removeItem(key);
    }
  }

  function showDraftNotice(text, offerRestore) {
    document.getElementById("draft-text").textContent = text;
    document.getElementById("draft-restore").hidden = !offerRestore;
    document.getElementById("draft-discard").textContent = offerRestore ? "Удалить черновик" : "Отменить восстановление";
    document.getElementById("draft-notice").hidden = false;
  }

  function hideDraftNotice() {
    document.getElementById("draft-notice").hidden = true;
    pendingDraft = null;
  }

  function applyDraft(draft) {
    const vals = { ...cardValues(card), ...draft.changes };
    fill(vals);
    for (const name of Object.keys(draft.changes)) touched.add(name);
  }

  /** On opening a card: restore the draft of this very version, offer one of an older one. */
  function checkDraft() {
    const exact = readDraft(draftKey(card.id, card.version));
    if (exact && exact.changes && Object.keys(exact.changes).length) {
      applyDraft(exact);
      showDraftNotice(`Восстановлен несохранённый черновик от ${Hotline.fmt.dateTime(exact.saved_at)}. Проверьте и сохраните.`, false);
      return;
    }
    const older = draftKeys(cardPrefix(card.id))
      .map((key) => ({ key, draft: readDraft(key) }))
      .filter((d) => d.draft && d.draft.changes && d.key !== draftKey(card.id, card.version))
      .sort((a, b) => (a.draft.saved_at < b.draft.saved_at ? 1 : -1))[0];
    if (older) {
      pendingDraft = older;
      showDraftNotice(`Есть черновик от ${Hotline.fmt.dateTime(older.draft.saved_at)} к прежней версии карточки (её с тех пор изменили).`, true);
    }
  }

  // ------------------------------------------------------------------ errors and state

  function clearErrors() {
    for (const el of document.querySelectorAll("#card-panel .field-error")) el.textContent = "";
    for (const el of document.querySelectorAll("#card-panel [aria-invalid]")) el.removeAttribute("aria-invalid");
    const formError = document.getElementById("form-error");
    formError.hidden = true;
    formError.textContent = "";
  }

  /** Show a refusal of the API: next to its field when it names one, otherwise above the buttons. */
  function showError(err, scope = document.getElementById("card-panel")) {
    if (err.code === "conflict") {
      document.getElementById("conflict-text").textContent = err.message;
      document.getElementById("conflict-notice").hidden = false;
      return;
    }
    const messages = err.details && err.details.messages;
    if (messages && typeof messages === "object" && Object.keys(messages).length > 1) {
      // A step refused for several empty fields: each says what it needs, the cursor goes
      // to the first, the whole list is above the buttons.
      let first = null;
      for (const [fieldName, text] of Object.entries(messages)) {
        const slot = scope.querySelector(`.field-error[data-error-for="${CSS.escape(fieldName)}"]`);
        const input = scope.querySelector(`[name="${CSS.escape(fieldName)}"]`);
        if (slot) slot.textContent = text;
        if (input) { input.setAttribute("aria-invalid", "true"); first = first || input; }
      }
      if (first) first.focus();
      const formError = scope.querySelector(".form-error");
      formError.textContent = err.message;
      formError.hidden = false;
      return;
    }
    const name = err.details && err.details.field;
    const slot = name && scope.querySelector(`.field-error[data-error-for="${CSS.escape(name)}"]`);
    if (slot) {
      slot.textContent = err.message;
      const input = scope.querySelector(`[name="${CSS.escape(name)}"]`);
      if (input) { input.setAttribute("aria-invalid", "true"); input.focus(); }
      return;
    }
    const formError = scope.querySelector(".form-error");
    formError.textContent = err.message;
    formError.hidden = false;
  }

  function setSaveState(text) {
    document.getElementById("save-state").textContent = text;
  }

  function refreshButtons() {
    if (!card) return;
    const editable = EDITABLE_STATUSES.has(card.status);
    const open = OPEN_STATUSES.has(card.status);
    form().querySelectorAll("fieldset").forEach((fs) => { fs.disabled = !editable; });
    document.getElementById("card-save").disabled = !editable;
    // What «Исполнено» still needs is shown beside those fields before anyone clicks (a
    // done card must stay complete too).
    const rules = editable ? (dict.requirements || {}).complete : [];
    const missing = Hotline.showNeeds(form(), rules, values(),
      document.getElementById("complete-needs"), "Для «Исполнено» заполните");
    const complete = document.getElementById("card-complete");
    complete.disabled = !open;
    complete.dataset.ready = String(open && !missing.length);
    complete.title = !open ? "Карточка уже не в работе" : missing.length
      ? `Сначала заполните: ${missing.map((r) => r.title).join(", ")}` : "Отметить карточку исполненной";
    document.getElementById("card-defer").disabled = !open;
    let state = "Все изменения сохранены";
    if (!editable) state = "Карточка только для просмотра";
    else if (Object.keys(changes()).length) state = "Есть несохранённые изменения (черновик хранится в браузере)";
    else if (card.status === "draft") state = "Черновик: сохраните, чтобы карточка ушла в работу";
    setSaveState(state);
  }

  function renderHead() {
    const head = document.getElementById("card-head");
    head.className = `card-head status-${card.status}`;
    head.dataset.status = card.status;
    document.getElementById("card-number").textContent = `РКК ${card.number}`;
    document.getElementById("card-full").href = `/admin/cards/${encodeURIComponent(card.id)}`;
    const status = document.getElementById("card-status");
    status.className = `badge status-${card.status}`;
    status.textContent = card.status_title || statusTitle(card.status);
    const meta = [`поступило ${Hotline.fmt.dateTime(card.received_at)}`];
    if (card.due_date) meta.push(`срок ответа ${Hotline.fmt.date(card.due_date)}`);
    if (card.responsible_level) meta.push(`${card.responsible_level} уровень`);
    if (card.callback_due_at) meta.push(`перезвонить до ${Hotline.fmt.dateTime(card.callback_due_at)}`);
    document.getElementById("card-meta").textContent = meta.join(" · ");
  }

  function statusTitle(status) {
    return Hotline.label("card_statuses", status);
  }

  // ------------------------------------------------------------------ opening

  /** Show `source` in the editor (a draft of this version is restored). */
  function open(source) {
    storeDraft();
    card = { ...source, status_title: statusTitle(source.status) };
    touched = new Set();
    clearErrors();
    hideDraftNotice();
    document.getElementById("conflict-notice").hidden = true;
    document.getElementById("defer-form").hidden = true;
    document.getElementById("card-pending").hidden = true;
    const panel = document.getElementById("card-panel");
    panel.hidden = false;
    panel.classList.remove("pending");
    renderHead();
    fill(cardValues(card));
    checkDraft();
    refreshButtons();
    listeners.opened.forEach((fn) => fn(card));
  }

  /** The full card arrived after a pop that carried only part of it: fill what the operator
      has not touched yet (same version), or reopen (newer version, nothing typed). */
  function merge(full) {
    if (!card || full.id !== card.id) return open(full);
    if (full.version !== card.version) {
      if (touched.size === 0) open(full);
      return undefined;
    }
    card = { ...card, ...full, status_title: statusTitle(full.status) };
    const untouched = new Set([...TEXT, "insurer_concerned_id", "anonymous", "justified", "complaint_reasons"].filter((n) => !touched.has(n)));
    if (!untouched.has("appeal_type")) untouched.delete("topic_code");
    const vals = { ...cardValues(card), ...values() };
    for (const name of untouched) vals[name] = cardValues(card)[name];
    fill(vals, untouched);
    renderHead();
    refreshButtons();
    return undefined;
  }

  /** The pop came before the journal wrote the call's card: put away whatever card was open
      (its draft is kept) and say that this call's card is coming. */
  function showPending() {
    storeDraft();
    card = null;
    const panel = document.getElementById("card-panel");
    panel.hidden = false;
    panel.classList.add("pending");
    document.getElementById("card-pending").hidden = false;
    document.getElementById("defer-form").hidden = true;
  }

  function close() {
    storeDraft();
    const closedId = card ? card.id : null;
    card = null;
    document.getElementById("card-panel").hidden = true;
    document.getElementById("defer-form").hidden = true;
    listeners.closed.forEach((fn) => fn(closedId));
  }

  // ------------------------------------------------------------------ saving

  /** Fields whose value differs between two `values()` snapshots. */
  function typedSince(before) {
    const now = values();
    const out = {};
    for (const [name, value] of Object.entries(now)) {
      if (!same(value, before[name])) out[name] = value;
    }
    return out;
  }

  /** Show the card the server answered with; what was typed while the request was on its
      way (`before` = the values sent) stays in the form as unsaved changes. */
  function saved(body, message, before) {
    const typed = before ? typedSince(before) : {};
    clearDrafts(body.id);
    card = null; // the draft of the old version is gone; open the new one cleanly
    open(body);
    if (Object.keys(typed).length) {
      fill({ ...cardValues(card), ...typed });
      for (const name of Object.keys(typed)) touched.add(name);
      storeDraft();
      refreshButtons();
    }
    Hotline.toast(message, "ok", 3000);
    listeners.saved.forEach((fn) => fn(body));
  }

  /** A level-2 operator working on a card handed to level 2 and not yet assigned becomes its
      responsible person (so it is in their "Мои карточки" and the journal says who has it). */
  function assignment() {
    if (!card || !selfAssign || card.responsible_level !== 2 || card.responsible_user_id) return {};
    return { responsible_user_id: selfAssign };
  }

  /** Whether a save would change anything (typed changes or the assignment above). */
  function needsSave() {
    return Object.keys(changes()).length > 0 || Object.keys(assignment()).length > 0;
  }

  /** PATCH the changes; resolves to the saved card, or null when refused (error shown). */
  async function save(extra = {}, { quiet = false } = {}) {
    if (!card) return null;
    clearErrors();
    const invalid = localError();
    if (invalid) { showError(invalid); return null; }
    const body = { version: card.version, changes: { ...changes(), ...assignment(), ...extra } };
    const before = values();
    const button = document.getElementById("card-save");
    button.disabled = true;
    try {
      const out = await Hotline.api("PATCH", `/api/v1/cards/${card.id}`, body);
      saved(out, quiet ? "Карточка сохранена" : `Карточка ${out.number} сохранена`, before);
      return out;
    } catch (err) {
      showError(err);
      return null;
    } finally {
      button.disabled = !card || !EDITABLE_STATUSES.has(card.status);
    }
  }

  /** The refusal the API would give for the fields `missing` (shown without asking it). */
  function missingError(missing) {
    const names = missing.map((r) => `«${r.title}»`).join(", ");
    return {
      code: "invalid_input",
      message: missing.length === 1 ? missing[0].message : `Чтобы отметить карточку исполненной, заполните: ${names}`,
      details: { field: missing[0].field, fields: missing.map((r) => r.field),
        messages: Object.fromEntries(missing.map((r) => [r.field, r.message])) },
    };
  }

  /** «Исполнено» settles the card's callbacks: said before the click, on the button. */
  async function complete() {
    if (!card) return;
    clearErrors();
    const invalid = localError();
    if (invalid) { showError(invalid); return; }
    const missing = Hotline.missingFor((dict.requirements || {}).complete, values());
    if (missing.length) { showError(missingError(missing)); return; }
    const before = values();
    try {
      const out = await Hotline.api("POST", `/api/v1/cards/${card.id}/complete`, { version: card.version, changes: changes() });
      saved(out, out.callbacks_cancelled
        ? `Карточка ${out.number} исполнена; ожидавший обратный звонок отменён — звонить не нужно`
        : `Карточка ${out.number} исполнена`, before);
    } catch (err) {
      showError(err);
    }
  }

  /** After a conflict: load the card as stored now and put the operator's typing back on top. */
  async function reloadKeepingMine() {
    const mine = changes();
    try {
      const fresh = await Hotline.api("GET", `/api/v1/cards/${card.id}`);
      clearDrafts(card.id);
      open(fresh);
      const vals = { ...cardValues(fresh), ...mine };
      fill(vals);
      for (const name of Object.keys(mine)) touched.add(name);
      storeDraft();
      refreshButtons();
      showDraftNotice("Загружена актуальная версия карточки; ваши изменения перенесены поверх неё. Проверьте и сохраните.", false);
    } catch (err) {
      Hotline.fail(err);
    }
  }

  // ------------------------------------------------------------------ wiring

  function init({ dictionaries, user, level }) {
    dict = dictionaries;
    userId = user;
    selfAssign = level === 2 ? user : null;
    pruneDrafts();
    renderChoices(field("appeal_type"), dict.appeal_types, "— не выбран —");
    renderChoices(field("oral_outcome"), dict.oral_outcomes, "— не указан —");
    // The applicant's insurer (СМО): the organizations of kind «insurer» in the journal.
    renderChoices(field("insurer_concerned_id"), (dict.organizations || [])
      .filter((o) => o.kind === "insurer").map((o) => ({ value: String(o.id), title: o.name })),
    "— не указана —");
    renderTopics("");
    renderReasons();
    const f = form();
    f.addEventListener("input", (event) => {
      if (event.target.name) touched.add(event.target.name);
      scheduleDraft();
      refreshButtons();
    });
    f.addEventListener("change", (event) => {
      if (event.target.name) touched.add(event.target.name);
      if (event.target.name === "appeal_type") {
        renderTopics(event.target.value);
        renderComplaintBox(event.target.value);
      }
      if (event.target.name === "topic_code" && !field("appeal_type").value) {
        const topic = dict.topics.find((t) => t.code === event.target.value);
        if (topic && topic.appeal_type) {
          field("appeal_type").value = topic.appeal_type;
          touched.add("appeal_type");
          renderTopics(topic.appeal_type);
          renderComplaintBox(topic.appeal_type);
        }
      }
      scheduleDraft();
      refreshButtons();
    });
    f.addEventListener("submit", (event) => { event.preventDefault(); save(); });
    document.addEventListener("keydown", (event) => {
      if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "s" && card) {
        event.preventDefault();
        save();
      }
    });
    document.getElementById("card-complete").addEventListener("click", complete);
    document.getElementById("card-hide").addEventListener("click", close);
    document.getElementById("conflict-reload").addEventListener("click", reloadKeepingMine);
    document.getElementById("draft-discard").addEventListener("click", () => {
      if (pendingDraft) localStorage.removeItem(pendingDraft.key);
      else { clearDrafts(card.id); touched = new Set(); fill(cardValues(card)); }
      hideDraftNotice();
      refreshButtons();
    });
    document.getElementById("draft-restore").addEventListener("click", () => {
      if (!pendingDraft) return;
      applyDraft(pendingDraft.draft);
      localStorage.removeItem(pendingDraft.key);
      storeDraft();
      hideDraftNotice();
      refreshButtons();
    });
    // A reload or a closed tab must not lose the last keystrokes.
    window.addEventListener("pagehide", storeDraft);
    window.addEventListener("beforeunload", storeDraft);
  }

  return {
    init, open, merge, close, save, showPending, showError, clearErrors, storeDraft,
    changes, values, clearDrafts, needsSave,
    current: () => card,
    on: (name, fn) => listeners[name].push(fn),
  };
})();
