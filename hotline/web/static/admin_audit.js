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
  // inside them, reports by title, organizations by name (issue 16); every title is the
  // API's (Hotline.label: audit_actions, audit_objects, audit_details, audit_filters...).
  const { label } = Hotline;
  const USER_KEYS = new Set(["operator_id", "assigned_user_id", "user_id", "responsible_user_id"]);
  let dict = null;
  let staff = null;

  /** "2026Q4" → "4 квартал 2026"; other periods (a month, a year) as they are. */
  function periodText(period) {
    const m = /^(\d{4})Q([1-4])$/.exec(String(period));
    return m ? `${m[2]} квартал ${m[1]}` : String(period);
  }

  /** One value of the details as a person reads it. */
  function valueText(key, value) {
    if (USER_KEYS.has(key) && staff) return Admin.userName(staff, value);
    if (key === "status") return label("callback_statuses", value, label("card_statuses", value));
    if (key === "period") return periodText(value);
    if (key === "fields" && Array.isArray(value)) return value.map((f) => label("card_fields", f)).join(", ");
    if (key === "organization_id" && dict) return dict.byOrg[value] || `№${value}`;
    if (key === "statuses" && Array.isArray(value)) return value.map((v) => label("card_statuses", v)).join(", ");
    if (key === "report") return label("reports", value);
    if (key === "filters" && value && typeof value === "object") {
      return Object.entries(value).map(([k, v]) => `${label("audit_filters", k)} ${valueText(k, v)}`).join(", ");
    }
    if (typeof value === "boolean") return value ? "да" : "нет";
    if (Array.isArray(value)) return value.map((v) => (typeof v === "object" ? JSON.stringify(v) : String(v))).join(", ");
    if (value && typeof value === "object") {
      return Object.entries(value).map(([k, v]) => `${label("audit_details", k, label("audit_filters", k))} ${valueText(k, v)}`).join(", ");
    }
    return String(value);
  }

  function objectCell(entry) {
    const type = label("audit_objects", entry.object_type);
    const number = entry.details && entry.details.number;
    if (entry.object_type === "report") return `${type}: ${label("reports", entry.object_id)}`;
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
      parts.push(`${label("audit_details", key)}: ${shown.length > 120 ? `${shown.slice(0, 120)}…` : shown}`);
    }
    return parts.join("; ");
  }

  function row(entry) {
    return h("tr", { "data-testid": "audit-row", "data-action": entry.action },
      h("td", { class: "nowrap" }, `${fmt.date(entry.at)} ${fmt.time(entry.at)}`),
      h("td", {}, entry.login || "—"),
      h("td", {}, label("audit_actions", entry.action)),
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
  // The filters offer every action and object the log names, once the titles are here.
  Admin.dictionaries().then(() => {
    Admin.fill(form.elements.action, Hotline.labelPairs("audit_actions"));
    Admin.fill(form.elements.object_type, Hotline.labelPairs("audit_objects"));
  }).catch(() => { /* load() says it */ }).finally(load);
})();
