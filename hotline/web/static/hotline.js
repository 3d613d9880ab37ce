/* Shared browser helpers of every page: the JSON API with its CSRF header and Russian errors,
   toasts, the live WebSocket with reconnects, date formatting in the region's time zone, and
   the dictionaries with the Russian title of every code (the pages keep no titles of their
   own). No framework: the pages are small and must load instantly on an operator's PC. */
"use strict";

const Hotline = (() => {
  const meta = (name) => {
    const el = document.querySelector(`meta[name="${name}"]`);
    return el ? el.content : "";
  };
  const tz = meta("hotline-tz") || undefined;

  /** A refusal of the API: `code` is stable, `message` is Russian and shown to the user. */
  class ApiFailure extends Error {
    constructor(status, code, message, details) {
      super(message);
      this.status = status;
      this.code = code;
      this.details = details || {};
    }
  }

  function toLogin() {
    const next = encodeURIComponent(location.pathname + location.search);
    location.assign(`/login?next=${next}`);
  }

  /** Call the JSON API; resolves to the parsed body, rejects with ApiFailure. */
  async function api(method, path, body, { raw = false, redirectOn401 = true } = {}) {
    const headers = { Accept: "application/json" };
    if (method !== "GET" && method !== "HEAD") headers["X-CSRF-Token"] = meta("csrf-token");
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(path, {
        method, headers, credentials: "same-origin",
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      throw new ApiFailure(0, "network", "Нет связи с сервером. Проверьте сеть и повторите.");
    }
    if (response.status === 401 && redirectOn401 && path !== "/api/v1/login") {
      toLogin();
      throw new ApiFailure(401, "unauthenticated", "Сеанс истёк: войдите снова");
    }
    if (raw && response.ok) return response;
    let data = null;
    const text = await response.text();
    if (text) {
      try { data = JSON.parse(text); } catch (err) { data = null; }
    }
    if (!response.ok) {
      const error = (data && data.error) || {};
      throw new ApiFailure(response.status, error.code || "http_error",
        error.message || `Ошибка сервера (${response.status})`, error.details);
    }
    return data;
  }

  function toast(message, kind = "info", ms = 5000) {
    const box = document.getElementById("toasts");
    if (!box) return;
    const el = document.createElement("div");
    el.className = `toast toast-${kind}`;
    el.textContent = message;
    el.setAttribute("data-testid", `toast-${kind}`);
    box.appendChild(el);
    setTimeout(() => el.remove(), ms);
  }

  /** Show an ApiFailure (or any error) as a red toast. */
  function fail(err) {
    toast(err && err.message ? err.message : String(err), "error", 8000);
  }

  /**
   * The live channel (`/api/v1/ws`): calls `handlers[msg.type](msg)` for every message and
   * `handlers.status(connected)` on connect and loss; reconnects with backoff, pings to keep
   * proxies from closing it.
   */
  function live(handlers) {
    let ws = null, delay = 500, pinger = null, stopped = false;
    function connect() {
      const scheme = location.protocol === "https:" ? "wss" : "ws";
      ws = new WebSocket(`${scheme}://${location.host}/api/v1/ws`);
      ws.onopen = () => {
        delay = 500;
        if (handlers.status) handlers.status(true);
        pinger = setInterval(() => {
          if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: "ping" }));
        }, 20000);
      };
      ws.onmessage = (event) => {
        let msg;
        try { msg = JSON.parse(event.data); } catch (err) { return; }
        const handler = handlers[msg.type];
        if (handler) {
          try { handler(msg); } catch (err) { console.error("live handler failed", msg.type, err); }
        }
      };
      ws.onclose = (event) => {
        clearInterval(pinger);
        if (handlers.status) handlers.status(false);
        if (stopped) return;
        if (event.code === 4401 || event.code === 1008) { toLogin(); return; }
        setTimeout(connect, delay);
        delay = Math.min(delay * 2, 10000);
      };
    }
    connect();
    return { close() { stopped = true; if (ws) ws.close(); }, send(msg) { ws.send(JSON.stringify(msg)); } };
  }

  const dateTimeFmt = new Intl.DateTimeFormat("ru-RU", {
    timeZone: tz, day: "2-digit", month: "2-digit", year: "numeric", hour: "2-digit", minute: "2-digit",
  });
  const dateFmt = new Intl.DateTimeFormat("ru-RU", { timeZone: tz, day: "2-digit", month: "2-digit", year: "numeric" });
  const timeFmt = new Intl.DateTimeFormat("ru-RU", { timeZone: tz, hour: "2-digit", minute: "2-digit", second: "2-digit" });
  const fmt = {
    dateTime: (iso) => (iso ? dateTimeFmt.format(new Date(iso)) : "—"),
    date: (iso) => (iso ? dateFmt.format(new Date(iso.length === 10 ? `${iso}T12:00:00Z` : iso)) : "—"),
    time: (iso) => (iso ? timeFmt.format(new Date(iso)) : "—"),
    duration: (seconds) => {
      if (seconds === null || seconds === undefined) return "—";
      const s = Math.round(seconds);
      return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
    },
    /** A Russian number as people write it: 79119903383 → «+7 911 990-33-83» (display only). */
    phone: (number) => {
      if (!number) return "";
      const d = String(number).replace(/\D/g, "");
      if (d.length === 11 && (d[0] === "7" || d[0] === "8")) {
        return `${d[0] === "7" ? "+7" : "8"} ${d.slice(1, 4)} ${d.slice(4, 7)}-${d.slice(7, 9)}-${d.slice(9)}`;
      }
      return String(number);
    },
  };

  /** The page's own data, rendered by the server into <script type="application/json">. */
  function pageData() {
    const el = document.getElementById("page-data");
    return el ? JSON.parse(el.textContent) : {};
  }

  /** Build an element: h("td", {class: "x"}, "text", child, ...). Text is never parsed as HTML. */
  function h(tag, attrs = {}, ...children) {
    const el = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
      else if (key === "dataset") Object.assign(el.dataset, value);
      else el.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      el.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return el;
  }

  // ------------------------------------------------------------------ dictionaries and labels

  let dictPromise = null;
  let labels = {};

  /** GET /api/v1/dictionaries once per page: the card form's choices and `labels`, the
      Russian title of every code a page shows, grouped (card_statuses, devices, audit_actions...).
      A failed load is retried by the next call. */
  function dictionaries() {
    if (!dictPromise) {
      dictPromise = api("GET", "/api/v1/dictionaries").then((d) => {
        labels = d.labels || {};
        return d;
      });
      dictPromise.catch(() => { dictPromise = null; });
    }
    return dictPromise;
  }

  /** The Russian title of `code` in the group of `labels`; `otherwise` («—») when it has none:
      a person never reads a bare code. Valid once `dictionaries()` has resolved. */
  function label(group, code, otherwise = "—") {
    const titles = labels[group];
    const key = code === null || code === undefined ? "" : String(code);
    return titles && Object.prototype.hasOwnProperty.call(titles, key) ? titles[key] : otherwise;
  }

  /** The [code, title] pairs of a group, in the server's order (a <select>'s options). */
  function labelPairs(group) {
    return Object.entries(labels[group] || {});
  }

  // ------------------------------------------------------------------ required fields

  /** The requirements of one step of a card (`requirements` of GET /api/v1/dictionaries:
      what «Исполнено» or a registration needs) that `vals` (fields by name) do not meet. */
  function missingFor(rules, vals) {
    return (rules || []).filter((r) => {
      if (r.for_type && vals.appeal_type !== r.for_type) return false;
      if (r.unless && vals[r.unless]) return false;
      const v = vals[r.field];
      return v === null || v === undefined || (typeof v === "string" && !v.trim()) || (Array.isArray(v) && !v.length);
    });
  }

  /** Beside each field of `scope` a step needs, say so in Russian while it is empty (a
      `.field-need` line under the field, `data-need-for` its name); `summary` (an element)
      lists them all, prefixed by `lead`. Returns the requirements still missing. */
  function showNeeds(scope, rules, vals, summary, lead) {
    const missing = missingFor(rules, vals);
    const wanted = new Map(missing.map((r) => [r.field, r]));
    for (const r of rules || []) {
      const input = scope.querySelector(`[name="${CSS.escape(r.field)}"]`);
      const host = input && (input.closest("label") || input.parentElement);
      if (!host) continue;
      let slot = host.querySelector(`.field-need[data-need-for="${CSS.escape(r.field)}"]`);
      if (!slot) {
        slot = h("span", { class: "field-need", dataset: { needFor: r.field } });
        host.append(slot);
      }
      slot.textContent = wanted.has(r.field) ? wanted.get(r.field).message : "";
    }
    if (summary) {
      summary.textContent = missing.length ? `${lead}: ${missing.map((r) => `«${r.title}»`).join(", ")}` : "";
      summary.hidden = !missing.length;
    }
    return missing;
  }

  document.addEventListener("DOMContentLoaded", () => {
    const logout = document.getElementById("logout");
    if (logout) {
      logout.addEventListener("click", async () => {
        try { await api("POST", "/api/v1/logout"); } catch (err) { /* signed out either way */ }
        location.assign("/login");
      });
    }
  });

  return {
    api, ApiFailure, toast, fail, live, fmt, pageData, h, tz, missingFor, showNeeds,
    dictionaries, label, labelPairs,
  };
})();
