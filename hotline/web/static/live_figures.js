/* Live figures and alerts in the browser, shared by the board (/admin/board) and the wallboard
   (/board/wall): `figures` and `alerts` messages of /api/v1/ws. Every label comes from the
   server (the page's template or the message itself: scope titles, alert texts, operators'
   state titles): nothing to translate here. The alert tone is made by WebAudio (two short
   beeps, no sound file); the user mutes it with the page's sound button, remembered in this
   browser (localStorage). */
"use strict";

const LiveFigures = (() => {
  const MUTE_KEY = "hotline.alerts.muted";
  let audio = null;

  function muted() { return localStorage.getItem(MUTE_KEY) === "1"; }

  /** Two short beeps (880 Hz, then 660 Hz), unless muted or the browser forbids sound yet. */
  function beep() {
    if (muted()) return;
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      if (audio.state === "suspended") audio.resume();
      const start = audio.currentTime;
      [[880, 0], [660, 0.25]].forEach(([freq, at]) => {
        const osc = audio.createOscillator();
        const gain = audio.createGain();
        osc.type = "sine";
        osc.frequency.value = freq;
        gain.gain.setValueAtTime(0.0001, start + at);
        gain.gain.exponentialRampToValueAtTime(0.25, start + at + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, start + at + 0.2);
        osc.connect(gain).connect(audio.destination);
        osc.start(start + at);
        osc.stop(start + at + 0.22);
      });
      window.hotlineBeeps = (window.hotlineBeeps || 0) + 1;  // the browser tests count them
    } catch (err) {
      console.warn("alert tone unavailable", err);
    }
  }

  /** The sound button: its two captions are its data-on / data-off attributes. */
  function bindSoundButton(button) {
    const show = () => {
      button.textContent = muted() ? button.dataset.off : button.dataset.on;
      button.setAttribute("aria-pressed", muted() ? "false" : "true");
      button.classList.toggle("muted", muted());
    };
    button.addEventListener("click", () => {
      localStorage.setItem(MUTE_KEY, muted() ? "0" : "1");
      show();
      if (!muted()) beep();  // a click lets the browser play sound from now on
    });
    show();
  }

  /** "2:05" for seconds; "—" for nothing. */
  function wait(seconds) {
    if (seconds === null || seconds === undefined) return "—";
    const s = Math.round(seconds);
    return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
  }

  function percent(value) {
    return value === null || value === undefined ? "—" : `${String(value).replace(".", ",")} %`;
  }

  /** The banner of active alerts; a tone when the message raised any. */
  function showAlerts(banner, msg) {
    const { h } = Hotline;
    banner.replaceChildren(...msg.active.map((a) => h("div", {
      class: `alert-item alert-${a.kind}`, "data-testid": "alert", "data-kind": a.kind,
    }, h("strong", {}, a.title), " ", a.text)));
    banner.hidden = msg.active.length === 0;
    if (msg.raised && msg.raised.length) beep();
  }

  return { beep, bindSoundButton, wait, percent, showAlerts, muted };
})();
