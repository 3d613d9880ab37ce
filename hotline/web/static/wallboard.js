/* The wallboard (/board/wall): `figures` and `alerts` of /api/v1/ws in big type. The socket
   reconnects by itself (Hotline.live, with backoff); the page asks for its session every few
   minutes so that a screen nobody touches is not signed out as idle. Titles come from the
   server (the template and the messages). */
"use strict";

(() => {
  const { h } = Hotline;
  const $ = (id) => document.getElementById(id);
  const set = (id, text) => { $(id).textContent = text === null || text === undefined ? "—" : String(text); };

  function render(msg) {
    const main = msg.scopes.find((s) => s.kind === "center") || msg.scopes.find((s) => s.kind === "organization");
    if (!main) return;
    set("wall-title", main.title);
    set("w-waiting", main.waiting);
    set("w-longest", LiveFigures.wait(main.longest_wait));
    set("w-sl15", LiveFigures.percent(main.m15.service_level));
    set("w-sltoday", LiveFigures.percent(main.today.service_level));
    set("w-arrived", main.today.arrived);
    set("w-asa", LiveFigures.wait(main.m60.asa));
    set("w-abandon", LiveFigures.percent(main.today.abandon_rate));
    set("w-callbacks", `${main.callbacks.due} / ${main.callbacks.overdue}`);
    $("w-longest").parentElement.classList.toggle("bad", main.longest_wait >= 60);
    const ops = main.operators;
    set("w-ready", ops.ready); set("w-talking", ops.talking);
    set("w-paused", ops.paused); set("w-unavailable", ops.unavailable);
    const lines = msg.scopes.filter((s) => s.kind === "line");
    document.querySelector(".wall-lines tbody").replaceChildren(...lines.map((s) => h("tr",
      { "data-testid": "wall-line", "data-code": s.code },
      h("th", { scope: "row" }, s.title),
      h("td", {}, String(s.waiting)),
      h("td", { class: s.longest_wait >= 60 ? "bad" : "" }, LiveFigures.wait(s.longest_wait)),
      h("td", {}, LiveFigures.percent(s.m15.service_level)),
      h("td", {}, String(s.today.arrived)),
      h("td", {}, String(s.operators.ready)))));
  }

  function clock() {
    $("wall-clock").textContent = new Date().toLocaleTimeString("ru-RU",
      { timeZone: Hotline.tz, hour: "2-digit", minute: "2-digit" });
  }

  LiveFigures.bindSoundButton($("alert-sound"));
  clock();
  setInterval(clock, 10000);
  setInterval(() => Hotline.api("GET", "/api/v1/me").catch(() => {}), 5 * 60 * 1000);
  Hotline.live({
    figures: render,
    alerts: (msg) => LiveFigures.showAlerts($("alert-banner"), msg),
    status: (up) => {
      $("wall-status").textContent = up ? "" : "нет связи — переподключение…";
      document.body.classList.toggle("offline", !up);
    },
  });
})();
