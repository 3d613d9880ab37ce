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

  function objectCell(entry) {
    const type = Admin.OBJECT_TYPES[entry.object_type] || entry.object_type;
    const number = entry.details && entry.details.number;
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
      let shown;
      if (Array.isArray(value)) shown = value.map((v) => (typeof v === "object" ? JSON.stringify(v) : String(v))).join(", ");
      else shown = typeof value === "object" ? JSON.stringify(value) : String(value);
      parts.push(`${Admin.DETAIL_KEYS[key] || key}: ${shown.length > 120 ? `${shown.slice(0, 120)}…` : shown}`);
    }
    return parts.join("; ");
  }

  function row(entry) {
    return h("tr", { "data-testid": "audit-row", "data-action": entry.action },
      h("td", { class: "nowrap" }, `${fmt.date(entry.at)} ${fmt.time(entry.at)}`),
      h("td", {}, entry.login || "—"),
      h("td", {}, Admin.AUDIT_ACTIONS[entry.action] || entry.action),
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
