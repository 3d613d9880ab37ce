/* Registering a written appeal (post, e-mail, personal reception, website, Госуслуги, forwarded
   from another body with its covering letter): POST /api/v1/cards, then the card's number and
   its 59-ФЗ dates (register by, forward by, answer by). */
"use strict";

(() => {
  const { h, fmt } = Hotline;
  const form = document.getElementById("written-form");
  const result = document.getElementById("result");
  const error = document.getElementById("form-error");
  const forwarded = document.getElementById("forwarded");
  const FIELDS = ["applicant_name", "applicant_birth_date", "applicant_policy", "applicant_address",
    "applicant_phone", "applicant_email", "representative", "appeal_type", "topic_code",
    "medical_org_concerned", "content"];
  const FORWARDED = ["forwarded_from_body", "forwarded_letter_number", "forwarded_letter_date"];

  let rules = [];

  /** The form's fields as the API names them (for the registration's requirements). */
  function formValues() {
    const el = form.elements;
    const out = {};
    for (const name of FIELDS) out[name] = el[name].value.trim() || null;
    out.anonymous = el.anonymous.checked;
    return out;
  }

  /** What «Зарегистрировать» still needs, beside each field and above the button. */
  function refreshNeeds() {
    for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
    return Hotline.showNeeds(form, rules, formValues(), document.getElementById("register-needs"),
      "Для регистрации заполните");
  }

  function toggleForwarded() {
    forwarded.hidden = form.elements.channel.value !== "forwarded";
  }

  function showResult(card, orgName, statusName) {
    const d = card.deadlines || {};
    result.replaceChildren(
      h("h2", {}, "Обращение зарегистрировано"),
      h("p", { class: "big" }, "Номер: ", h("strong", { "data-testid": "written-number" }, card.number)),
      h("dl", { class: "fields compact" },
        h("div", { class: "field" }, h("dt", {}, "Организация"), h("dd", {}, orgName)),
        h("div", { class: "field" }, h("dt", {}, "Статус"), h("dd", { "data-testid": "written-status" }, statusName)),
        h("div", { class: "field" }, h("dt", {}, "Поступило"), h("dd", {}, fmt.dateTime(card.received_at))),
        h("div", { class: "field" }, h("dt", {}, "Зарегистрировано"), h("dd", {}, fmt.dateTime(card.registered_at))),
        h("div", { class: "field" }, h("dt", {}, "Зарегистрировать не позднее (3 дня)"), h("dd", {}, fmt.date(d.registration_due))),
        h("div", { class: "field" }, h("dt", {}, "Переслать по компетенции не позднее (7 дней)"), h("dd", {}, fmt.date(d.forwarding_due))),
        h("div", { class: "field" }, h("dt", {}, "Срок ответа (30 дней)"), h("dd", { "data-testid": "written-due" }, fmt.date(card.due_date)))),
      h("div", { class: "actions" },
        h("a", { class: "button primary", href: `/admin/cards/${card.id}`, "data-testid": "open-written" }, "Открыть карточку"),
        h("button", { type: "button", onclick: () => { result.hidden = true; form.hidden = false; } }, "Зарегистрировать ещё")));
    result.hidden = false;
    form.hidden = true;
    form.reset();
    form.elements.received_at.value = Admin.nowLocalValue();
    toggleForwarded();
    refreshNeeds();
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    const el = form.elements;
    if (!el.received_at.value) {
      error.textContent = "Укажите дату и время поступления";
      error.hidden = false;
      return;
    }
    const missing = refreshNeeds();
    if (missing.length) {
      error.textContent = missing.length === 1 ? missing[0].message
        : `Чтобы зарегистрировать обращение, заполните: ${missing.map((r) => `«${r.title}»`).join(", ")}`;
      error.hidden = false;
      for (const r of missing) {
        const input = el[r.field];
        if (input) input.setAttribute("aria-invalid", "true");
      }
      el[missing[0].field].focus();
      return;
    }
    const fields = {};
    const names = el.channel.value === "forwarded" ? [...FIELDS, ...FORWARDED] : FIELDS;
    for (const name of names) {
      const value = el[name].value.trim();
      if (value) fields[name] = value;
    }
    if (el.anonymous.checked) fields.anonymous = true;
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const card = await Hotline.api("POST", "/api/v1/cards", {
        channel: el.channel.value, received_at: Admin.localMoment(el.received_at.value),
        organization_id: Number(el.organization_id.value), fields,
      });
      const d = await Admin.dictionaries();
      showResult(card, d.byOrg[card.organization_id] || "", `${Hotline.label("card_statuses", card.status)} (на рассмотрении)`);
      Hotline.toast(`Зарегистрировано: ${card.number}`, "ok");
    } catch (err) {
      error.textContent = err.message;
      error.hidden = false;
    } finally {
      button.disabled = false;
    }
  });

  form.elements.channel.addEventListener("change", toggleForwarded);
  Admin.dictionaries().then((d) => {
    const oral = new Set(["hotline", "secretary"]);
    Admin.fill(form.elements.channel, d.channels.filter((c) => !oral.has(c.value)).map((c) => [c.value, c.title]));
    Admin.fill(form.elements.organization_id, d.organizations.map((o) => [o.id, o.name]));
    Admin.fill(form.elements.appeal_type, d.appeal_types.map((t) => [t.value, t.title]));
    Admin.fill(form.elements.topic_code, Admin.topicPairs(d));
    form.elements.received_at.value = Admin.nowLocalValue();
    rules = (d.requirements || {}).register || [];
    toggleForwarded();
    refreshNeeds();
  }).catch(Hotline.fail);
  form.addEventListener("input", refreshNeeds);
  form.addEventListener("change", refreshNeeds);
})();
