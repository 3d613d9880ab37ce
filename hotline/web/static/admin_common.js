/* What the administrator console's pages share: the dictionaries (Hotline.dictionaries, with
   lookups by id and code; the Russian titles of codes are Hotline.label's), the staff directory (names behind user ids and phones), select options, region dates,
   the pager and the confirmation dialog. Data is always put in the page with textContent. */
"use strict";

const Admin = (() => {
  const { h } = Hotline;
  const page = Hotline.pageData();

  let dictPromise = null;
  let staffPromise = null;

  /** The page's dictionaries (Hotline.dictionaries), with topics, complaint reasons and
      organizations looked up by code and id. */
  function dictionaries() {
    if (!dictPromise) {
      dictPromise = Hotline.dictionaries().then((d) => {
        const map = (items, key, val) => Object.fromEntries(items.map((i) => [String(i[key]), i[val]]));
        d.byTopic = map(d.topics, "code", "title");
        d.byReason = map(d.complaint_reasons, "code", "title");
        d.byOrg = map(d.organizations, "id", "name");
        d.orgCode = map(d.organizations, "id", "code");
        return d;
      });
      dictPromise.catch(() => { dictPromise = null; });
    }
    return dictPromise;
  }

  /** GET /api/v1/staff once per page: {byId, byInterface, items}. */
  function staff() {
    if (!staffPromise) {
      staffPromise = Hotline.api("GET", "/api/v1/staff").then((s) => ({
        items: s.items,
        byId: Object.fromEntries(s.items.map((u) => [String(u.id), u])),
        byInterface: Object.fromEntries(s.items.filter((u) => u.interface).map((u) => [u.interface, u])),
      })).catch(() => ({ items: [], byId: {}, byInterface: {} }));
    }
    return staffPromise;
  }

  function userName(directory, id) {
    if (id === null || id === undefined) return "—";
    const user = directory.byId[String(id)];
    return user ? user.full_name : `пользователь №${id}`;
  }

  function operatorName(directory, iface) {
    if (!iface) return "—";
    const user = directory.byInterface[iface];
    const phone = iface.replace(/^PJSIP\//, "");
    // A phone nobody is signed up at (a spare desk, a phone of the PBX alone) is still named
    // in words, never as the PBX's raw channel name.
    return user ? `${user.full_name} (${phone})` : `телефон ${phone}, без учётной записи`;
  }

  /** Fill a <select> with [value, title] pairs after its existing first options. */
  function fill(select, pairs) {
    if (!select) return;
    for (const [value, title] of pairs) select.append(h("option", { value: String(value) }, title));
  }

  function topicPairs(d) {
    return d.topics.map((t) => [t.code, `${t.code} ${t.title}`]);
  }

  /** A region day "2026-12-01" as the ISO moment of its midnight in the region. */
  function dayStart(day) {
    return day ? `${day}T00:00:00${page.tz_offset || "+00:00"}` : "";
  }

  /** The day after, for exclusive "to" bounds. */
  function nextDay(day) {
    if (!day) return "";
    const d = new Date(`${day}T12:00:00Z`);
    d.setUTCDate(d.getUTCDate() + 1);
    return d.toISOString().slice(0, 10);
  }

  /** A <input type=datetime-local> value in the region as an ISO moment with the offset. */
  function localMoment(value) {
    return value ? `${value.length === 16 ? `${value}:00` : value}${page.tz_offset || "+00:00"}` : "";
  }

  /** "Now" for a datetime-local input, in the region's time. */
  function nowLocalValue() {
    const offset = page.tz_offset || "+00:00";
    const sign = offset[0] === "-" ? -1 : 1;
    const minutes = sign * (Number(offset.slice(1, 3)) * 60 + Number(offset.slice(4, 6)));
    return new Date(Date.now() + minutes * 60000).toISOString().slice(0, 16);
  }

  function yesNo(value) {
    if (value === null || value === undefined) return "—";
    return value ? "да" : "нет";
  }

  /** Pager links: calls go(page) on click. */
  function pager(nav, current, pages, go) {
    nav.replaceChildren();
    if (pages <= 1) return;
    const link = (n, text, label) => h("button", {
      type: "button", class: n === current ? "page current" : "page", "aria-label": label || `Страница ${n}`,
      "aria-current": n === current ? "page" : null, disabled: n < 1 || n > pages || null,
      onclick: () => go(n),
    }, text);
    nav.append(link(current - 1, "‹ Назад", "Предыдущая страница"));
    const shown = new Set([1, pages, current - 2, current - 1, current, current + 1, current + 2]);
    let last = 0;
    for (let n = 1; n <= pages; n++) {
      if (!shown.has(n)) continue;
      if (n - last > 1) nav.append(h("span", { class: "gap" }, "…"));
      nav.append(link(n, String(n)));
      last = n;
    }
    nav.append(link(current + 1, "Далее ›", "Следующая страница"));
  }

  /**
   * A modal confirmation: `fields` are extra inputs (label, name, type, options, required).
   * Resolves to the values, or null when cancelled. `run(values)` may throw an ApiFailure:
   * its Russian message is shown in the dialog, which stays open.
   */
  function confirmDialog({ title, text, confirm = "Подтвердить", danger = false, fields = [], run }) {
    return new Promise((resolve) => {
      const error = h("p", { class: "form-error", role: "alert", hidden: true });
      const inputs = fields.map((f) => {
        let input;
        if (f.type === "select") {
          input = h("select", { name: f.name, required: f.required || null },
            ...(f.options || []).map(([v, t]) => h("option", { value: v }, t)));
          if (f.value !== undefined && f.value !== null) input.value = String(f.value);
        } else if (f.type === "textarea") {
          input = h("textarea", { name: f.name, rows: 3, maxlength: 2000, required: f.required || null });
        } else {
          input = h("input", { name: f.name, type: f.type || "text", required: f.required || null,
            min: f.min || null, max: f.max || null, value: f.value || null });
        }
        return h("label", {}, f.label, input);
      });
      const ok = h("button", { type: "submit", class: danger ? "danger" : "primary", "data-testid": "confirm" }, confirm);
      const cancel = h("button", { type: "button", "data-testid": "cancel-dialog" }, "Отмена");
      const form = h("form", { method: "dialog", class: "dialog-form" },
        h("h2", {}, title), text ? h("p", {}, text) : null, ...inputs, error,
        h("div", { class: "actions" }, ok, cancel));
      const dialog = h("dialog", { class: "confirm-dialog", "data-testid": "dialog" }, form);
      document.body.append(dialog);
      const finish = (value) => { dialog.close(); dialog.remove(); resolve(value); };
      cancel.addEventListener("click", () => finish(null));
      dialog.addEventListener("cancel", (e) => { e.preventDefault(); finish(null); });
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        const values = Object.fromEntries(fields.map((f) => [f.name, form.elements[f.name].value.trim()]));
        const missing = fields.find((f) => f.required && !values[f.name]);
        if (missing) {
          error.textContent = `Заполните поле «${missing.label}»`;
          error.hidden = false;
          return;
        }
        ok.disabled = true;
        try {
          const result = run ? await run(values) : values;
          finish(result === undefined ? values : result);
        } catch (err) {
          error.textContent = err.message || String(err);
          error.hidden = false;
          ok.disabled = false;
        }
      });
      dialog.showModal();
    });
  }

  /** The form's non-empty values as URLSearchParams. */
  function formParams(form) {
    const params = new URLSearchParams();
    for (const el of form.elements) {
      if (!el.name || el.type === "submit" || el.type === "button") continue;
      const value = el.type === "checkbox" ? (el.checked ? "1" : "") : el.value.trim();
      if (value) params.set(el.name, value);
    }
    return params;
  }

  /** Put URL parameters back into the form's fields. */
  function fillForm(form, params) {
    for (const el of form.elements) {
      if (!el.name || el.type === "submit" || el.type === "button") continue;
      const value = params.get(el.name) || "";
      if (el.type === "checkbox") el.checked = value === "1";
      else el.value = value;
    }
  }

  /** A filter form whose values live in the page's address: «Найти» and «Сбросить» push
      them into the history (shareable, kept on reload) and `load` runs; Back runs it too. */
  function bindFilterForm(form, load) {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const params = formParams(form);
      history.pushState(null, "", `${location.pathname}${params.toString() ? `?${params}` : ""}`);
      load();
    });
    document.getElementById("reset-filters").addEventListener("click", () => {
      history.pushState(null, "", location.pathname);
      load();
    });
    window.addEventListener("popstate", load);
  }

  function statusBadge(status) {
    return h("span", { class: `badge status-${status}` }, Hotline.label("card_statuses", status));
  }

  return {
    page, dictionaries, staff, userName, operatorName, fill, topicPairs, dayStart, nextDay,
    localMoment, nowLocalValue, yesNo, pager, confirmDialog, formParams, fillForm, bindFilterForm,
    statusBadge,
  };
})();
