/* Identification by ЕНП on the operator's card: the operator types the 16-digit policy number
   (or the secretary took it), presses «Найти» (or the 16th digit is typed), and the applicant
   is filled from the register of insured persons (ФИО, дата рождения; the insurer as the card's
   «СМО, которой касается обращение»). Every text shown comes from the API. On the fund's line,
   when the citizen's insurer is another organization, «Перевести в СМО гражданина» sends the
   call to that insurer's level 1 with the card. */
"use strict";

const EnpLookup = (() => {
  const { api, toast, fail, h } = Hotline;
  const $ = (id) => document.getElementById(id);
  let last = null; // the last lookup's answer

  function set(name, value) {
    const el = $(`f-${name}`);
    if (!el || value == null || el.value === value) return;
    el.value = value;
    el.dispatchEvent(new Event("input", { bubbles: true }));
    el.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function ruDate(iso) {
    if (!iso) return null;
    const [y, m, d] = iso.split("-");
    return `${d}.${m}.${y}`;
  }

  function show(text, kind) {
    const note = $("enp-note");
    note.textContent = text || "";
    note.className = `enp-note small ${kind || ""}`;
    note.hidden = !text;
  }

  async function find() {
    const card = CardEditor.current();
    const enp = $("f-applicant_policy").value.replace(/\D/g, "");
    $("enp-transfer").hidden = true;
    if (enp.length !== 16) { show("ЕНП должен состоять из 16 цифр", "warn"); return; }
    try {
      last = await api("POST", "/api/v1/register/lookup", { enp, card_id: card ? card.id : null });
    } catch (err) { show("", ""); fail(err); return; }
    if (!last.found) { show(last.message, "warn"); return; }
    const p = last.person;
    set("applicant_name", p.full_name);
    set("applicant_birth_date", ruDate(p.birth_date));
    if (last.insurer) set("insurer_concerned_id", String(last.insurer.id));
    const who = last.insurer ? last.insurer.name : p.insurer_code;
    show(last.warning || `Найден в регистре застрахованных: ${p.full_name}, СМО — ${who}`, last.warning ? "warn" : "ok");
    $("enp-transfer").hidden = !(last.can_transfer && document.body.dataset.callId);
    if (!$("enp-transfer").hidden) $("enp-transfer").textContent = `Перевести в ${last.insurer.name}`;
  }

  async function transfer() {
    const card = CardEditor.current();
    const callId = document.body.dataset.callId;
    if (!card || !callId) return;
    $("enp-transfer").disabled = true;
    try {
      if (!(await CardEditor.save({}, { quiet: true }))) { $("enp-transfer").disabled = false; return; }
      const out = await api("POST", `/api/v1/calls/${callId}/transfer-insurer`, { card_id: card.id });
      toast(`Звонок переведён в ${last.insurer.name}, карточка передана туда же`, "ok", 6000);
      $("enp-transfer").hidden = true;
      return out;
    } catch (err) { fail(err); } finally { $("enp-transfer").disabled = false; }
  }

  function init() {
    const input = $("f-applicant_policy");
    if (!input) return;
    $("enp-find").addEventListener("click", find);
    $("enp-transfer").addEventListener("click", transfer);
    input.addEventListener("input", () => {
      if (input.value.replace(/\D/g, "").length === 16 && input.value.replace(/\D/g, "") !== (last && last.person && last.person.enp)) find();
    });
    CardEditor.on("opened", () => { show("", ""); $("enp-transfer").hidden = true; last = null; });
  }

  document.addEventListener("DOMContentLoaded", init);
  return { find };
})();
