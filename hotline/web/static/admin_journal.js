/* The journal of appeals: filters kept in the page's URL (shareable, survive a reload), a page
   of GET /api/v1/cards newest first, rows coloured by status, a click opens the card. */
"use strict";

(() => {
  const { h, fmt } = Hotline;
  const form = document.getElementById("filters");
  const tbody = document.querySelector("#cards tbody");
  const total = document.getElementById("total");
  const pagerNav = document.getElementById("pager");
  const PER_PAGE = 50;
  let dict = null;

  /** The API query of the filters in the URL (dates are the region's days). */
  function apiQuery(params) {
    const q = new URLSearchParams();
    for (const [key, value] of params) {
      if (key === "received_from") q.set("received_from", Admin.dayStart(value));
      else if (key === "received_to") q.set("received_to", Admin.dayStart(Admin.nextDay(value)));
      else q.set(key, value);
    }
    q.set("per_page", String(PER_PAGE));
    return q;
  }

  function short(text, n = 90) {
    if (!text) return "";
    return text.length > n ? `${text.slice(0, n)}…` : text;
  }

  function row(card) {
    const open = () => location.assign(`/admin/cards/${card.id}`);
    const overdue = card.due_date && ["draft", "in_work"].includes(card.status)
      && card.due_date < new Date().toISOString().slice(0, 10);
    return h("tr", {
      class: `clickable status-${card.status}`, tabindex: 0, "data-testid": "card-row",
      "data-card-id": card.id, "data-status": card.status, onclick: open,
      onkeydown: (e) => { if (e.key === "Enter") open(); },
    },
    h("td", {}, h("a", { href: `/admin/cards/${card.id}`, class: "card-link" }, card.number)),
    h("td", { class: "nowrap" }, fmt.dateTime(card.received_at)),
    h("td", {}, dict.orgCode[card.organization_id] ? dict.byOrg[card.organization_id] : "—"),
    h("td", {}, Hotline.label("channels", card.channel)),
    h("td", {}, Hotline.label("appeal_types", card.appeal_type)),
    h("td", { title: dict.byTopic[card.topic_code] || "" }, card.topic_code || "—"),
    h("td", {}, card.anonymous ? "анонимно" : (card.applicant_name || fmt.phone(card.applicant_phone) || "—")),
    h("td", { class: "content-cell" }, short(card.content)),
    h("td", { class: overdue ? "nowrap overdue" : "nowrap" }, fmt.date(card.due_date)),
    h("td", {}, Admin.statusBadge(card.status)));
  }

  async function load() {
    const params = new URLSearchParams(location.search);
    Admin.fillForm(form, params);
    total.textContent = "Загрузка…";
    try {
      const result = await Hotline.api("GET", `/api/v1/cards?${apiQuery(params)}`);
      tbody.replaceChildren(...result.items.map(row));
      if (!result.items.length) {
        tbody.append(h("tr", {}, h("td", { colspan: 10, class: "empty" }, "Карточек по этому фильтру нет")));
      }
      total.textContent = `Найдено карточек: ${result.total}`;
      Admin.pager(pagerNav, result.page, result.pages, (n) => go({ page: String(n) }));
    } catch (err) {
      total.textContent = "Журнал не загружен";
      Hotline.fail(err);
    }
  }

  /** Change the URL (a new history entry) and load. */
  function go(changes, replace = false) {
    const params = new URLSearchParams(location.search);
    for (const [key, value] of Object.entries(changes)) {
      if (value) params.set(key, value); else params.delete(key);
    }
    const url = `${location.pathname}${params.toString() ? `?${params}` : ""}`;
    if (replace) history.replaceState(null, "", url); else history.pushState(null, "", url);
    load();
  }

  Admin.bindFilterForm(form, load);

  Promise.all([Admin.dictionaries(), Admin.staff()]).then(([d, staff]) => {
    dict = d;
    Admin.fill(form.elements.organization_id, d.organizations.map((o) => [o.id, o.name]));
    Admin.fill(form.elements.status, d.statuses.map((s) => [s.value, s.title]));
    Admin.fill(form.elements.appeal_type, d.appeal_types.map((s) => [s.value, s.title]));
    Admin.fill(form.elements.channel, d.channels.map((s) => [s.value, s.title]));
    Admin.fill(form.elements.topic, Admin.topicPairs(d));
    const operators = staff.items.filter((u) => u.role === "operator");
    Admin.fill(form.elements.operator_id, operators.map((u) => [u.id,
      `${u.full_name}${u.level ? `, ${u.level} ур.` : ""} (${d.orgCode[u.organization_id] || ""})`]));
    load();
  }).catch(Hotline.fail);
})();
