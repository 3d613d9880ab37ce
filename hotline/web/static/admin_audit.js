/* The access log (152-ФЗ) for the administrator: filters kept in the URL, pages of
   GET /api/v1/audit newest first; a card's entries link to the card. */
"use strict";

(() => {
  const { h, fmt } = Hotline;
  const form = document.getElementById("filters");
  const tbody = document.querySelector("#audit tbody");
  const total = document.getElementById("total");
  const pagerNav = document.getElementById("pager");
  const LIMIT = 50;

  function apiQuery(params) {
    const q = new URLSearchParams();
    for (const key of ["login", "action", "object_type", "object_id"]) {
      if (params.get(key)) q.set(key, params.get(key));
    }
    if (params.get("since")) q.set("since", Admin.dayStart(params.get("since")));
    if (params.get("until")) q.set("until", Admin.dayStart(Admin.nextDay(params.get("until"))));
    const pageNo = Math.max(1, Number(params.get("page") || 1));
    q.set("limit", String(LIMIT));
    q.set("offset", String((pageNo - 1) * LIMIT));
    return [q, pageNo];
  }

  // Everything a person reads here is Russian: actions, detail names, the fields and filters
  // inside them, reports by title, organizations by name (issue 16).
  const ACTIONS = {
    ...Admin.AUDIT_ACTIONS, callback_done: "Обратный звонок состоялся", callback_take: "Обратный звонок взят",
    callback_dial: "Набор обратного звонка", agent_join: "Вход в очередь", agent_pause: "Перерыв",
    agent_unpause: "Конец перерыва", agent_leave: "Выход из очереди", denied: "Отказ в доступе",
  };
  const KEYS = {
    ...Admin.DETAIL_KEYS, queue: "очередь", interface: "телефон", reason: "причина", login: "учётная запись",
    screen_pop: "всплывающая карточка звонка", level: "уровень", attempt: "попытка", callback_ids: "обратные звонки",
    callbacks_cancelled: "отменено обратных звонков", status: "статус", assigned_user_id: "исполнитель",
    organization_id: "организация", action: "действие", object_type: "объект", object_id: "номер объекта",
    within_days: "в пределах дней", by: "разбивка", format: "формат", kind: "вид", path: "путь",
  };
  const FILTER_KEYS = {
    organization_id: "организация", statuses: "статусы", received_from: "поступило с",
    received_to: "поступило до", appeal_type: "вид", topic_code: "тематика", channel: "канал",
    form: "форма", operator_id: "оператор", level: "уровень", phone: "телефон", text: "поиск",
  };
  const REPORTS = {
    pg: "форма ПГ", calls: "статистика звонков", quality: "качество работы операторов",
    deadlines: "сроки рассмотрения", surveys: "опрос заявителей", digest: "утренняя сводка сроков",
  };
  const CALLBACK_STATUSES = {
    pending: "ожидает", dialing: "набирается", done: "выполнен", failed: "не дозвонились", cancelled: "отменён",
  };
  const USER_KEYS = new Set(["operator_id", "assigned_user_id", "user_id", "responsible_user_id"]);
  let dict = null;
  let staff = null;

  /** "2026Q4" → "4 квартал 2026"; other periods (a month, a year) as they are. */
  function periodText(label) {
    const m = /^(\d{4})Q([1-4])$/.exec(String(label));
    return m ? `${m[2]} квартал ${m[1]}` : String(label);
  }

  /** One value of the details as a person reads it. */
  function valueText(key, value) {
    if (USER_KEYS.has(key) && staff) return Admin.userName(staff, value);
    if (key === "status") return CALLBACK_STATUSES[value] || (dict && dict.byStatus[value]) || String(value);
    if (key === "period") return periodText(value);
    if (key === "fields" && Array.isArray(value)) return value.map((f) => (dict && dict.fields[f]) || Admin.FIELD_TITLES[f] || f).join(", ");
    if (key === "organization_id" && dict) return dict.byOrg[value] || String(value);
    if (key === "statuses" && Array.isArray(value) && dict) return value.map((v) => dict.byStatus[v] || v).join(", ");
    if (key === "report") return REPORTS[value] || String(value);
    if (key === "filters" && value && typeof value === "object") {
      return Object.entries(value).map(([k, v]) => `${FILTER_KEYS[k] || k} ${valueText(k, v)}`).join(", ");
    }
    if (typeof value === "boolean") return value ? "да" : "нет";
    if (Array.isArray(value)) return value.map((v) => (typeof v === "object" ? JSON.stringify(v) : String(v))).join(", ");
    if (value && typeof value === "object") {
      return Object.entries(value).map(([k, v]) => `${KEYS[k] || FILTER_KEYS[k] || k} ${valueText(k, v)}`).join(", ");
    }
    return String(value);
  }

  function objectCell(entry) {
    const type = Admin.OBJECT_TYPES[entry.object_type] || entry.object_type;
    const number = entry.details && entry.details.number;
    if (entry.object_type === "report") return `${type}: ${REPORTS[entry.object_id] || entry.object_id || "—"}`;
    const text = entry.object_id ? `${type} №${entry.object_id}${number ? ` (${number})` : ""}` : type;
    if (entry.object_type === "card" && entry.object_id) {
      return h("a", { href: `/admin/cards/${entry.object_id}` }, text);
    }
    return text;
  }

  function details(entry) {
    const d = { ...(entry.details || {}) };
    delete d.number;
    const parts = [];
    for (const [key, value] of Object.entries(d)) {
      if (value === null || value === undefined || (Array.isArray(value) && !value.length)) continue;
      if (typeof value === "object" && !Array.isArray(value) && !Object.keys(value).length) continue;
      const shown = valueText(key, value);
      parts.push(`${KEYS[key] || key}: ${shown.length > 120 ? `${shown.slice(0, 120)}…` : shown}`);
    }
    return parts.join("; ");
  }

  function row(entry) {
    return h("tr", { "data-testid": "audit-row", "data-action": entry.action },
      h("td", { class: "nowrap" }, `${fmt.date(entry.at)} ${fmt.time(entry.at)}`),
      h("td", {}, entry.login || "—"),
      h("td", {}, ACTIONS[entry.action] || entry.action),
      h("td", {}, objectCell(entry)),
      h("td", {}, entry.remote_addr || "—"),
      h("td", { class: "small details-cell" }, details(entry)));
  }

  async function load() {
    const params = new URLSearchParams(location.search);
    Admin.fillForm(form, params);
    const [query, pageNo] = apiQuery(params);
    total.textContent = "Загрузка…";
    try {
      if (!dict) [dict, staff] = await Promise.all([Admin.dictionaries(), Admin.staff()]);
      const result = await Hotline.api("GET", `/api/v1/audit?${query}`);
      tbody.replaceChildren(...result.items.map(row));
      if (!result.items.length) tbody.append(h("tr", {}, h("td", { colspan: 6, class: "empty" }, "Записей нет")));
      total.textContent = `Записей: ${result.total}`;
      Admin.pager(pagerNav, pageNo, Math.max(1, Math.ceil(result.total / LIMIT)), (n) => {
        const next = new URLSearchParams(location.search);
        next.set("page", String(n));
        history.pushState(null, "", `${location.pathname}?${next}`);
        load();
      });
    } catch (err) {
      total.textContent = "Журнал доступа не загружен";
      Hotline.fail(err);
    }
  }

  Admin.bindFilterForm(form, load);
  Admin.fill(form.elements.action, Object.entries(Admin.AUDIT_ACTIONS));
  Admin.fill(form.elements.object_type, Object.entries(Admin.OBJECT_TYPES));
  load();
})();
