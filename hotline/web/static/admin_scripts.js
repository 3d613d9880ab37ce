/* Answer scripts: the list with keyword search (GET /api/v1/scripts?q=), a click loads a
   script into the editor; saving creates (POST) or changes (PATCH) it. */
"use strict";

(() => {
  const { h, fmt } = Hotline;
  const tbody = document.querySelector("#scripts tbody");
  const search = document.getElementById("search");
  const editor = document.getElementById("editor");
  const editorTitle = document.getElementById("editor-title");
  const error = document.getElementById("form-error");
  let dict = null, editing = null;

  function startNew() {
    editing = null;
    editor.reset();
    editor.elements.active.checked = true;
    editorTitle.textContent = "Новый скрипт";
    error.hidden = true;
    for (const tr of tbody.querySelectorAll("tr.selected")) tr.classList.remove("selected");
  }

  function edit(script, tr) {
    editing = script;
    const el = editor.elements;
    el.title.value = script.title;
    el.keywords.value = script.keywords || "";
    el.topic_code.value = script.topic_code || "";
    el.organization_id.value = script.organization_id ? String(script.organization_id) : "";
    el.body.value = script.body;
    el.active.checked = script.active;
    editorTitle.textContent = `Скрипт: ${script.title}`;
    error.hidden = true;
    for (const row of tbody.querySelectorAll("tr.selected")) row.classList.remove("selected");
    tr.classList.add("selected");
  }

  function row(script) {
    const tr = h("tr", { class: script.active ? "clickable" : "clickable inactive", "data-testid": "script-row" });
    tr.append(
      h("td", {}, script.title, h("div", { class: "muted small" }, `изменён ${fmt.dateTime(script.updated_at)}`)),
      h("td", { class: "small" }, script.keywords || "—"),
      h("td", {}, script.topic_code || "—"),
      h("td", {}, script.organization_id ? (dict.byOrg[script.organization_id] || "—") : "все"),
      h("td", {}, script.active ? "да" : "нет"));
    tr.addEventListener("click", () => edit(script, tr));
    return tr;
  }

  async function load() {
    const q = search.elements.q.value.trim();
    try {
      const { items } = await Hotline.api("GET", `/api/v1/scripts${q ? `?q=${encodeURIComponent(q)}` : ""}`);
      tbody.replaceChildren(...items.map(row));
      if (!items.length) tbody.append(h("tr", {}, h("td", { colspan: 5, class: "empty" }, q ? "Ничего не найдено" : "Скриптов пока нет")));
    } catch (err) {
      Hotline.fail(err);
    }
  }

  editor.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    const el = editor.elements;
    const body = {
      title: el.title.value, keywords: el.keywords.value, body: el.body.value,
      topic_code: el.topic_code.value || null,
      organization_id: el.organization_id.value ? Number(el.organization_id.value) : null,
      active: el.active.checked,
    };
    const button = editor.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const saved = editing
        ? await Hotline.api("PATCH", `/api/v1/scripts/${editing.id}`, body)
        : await Hotline.api("POST", "/api/v1/scripts", body);
      Hotline.toast(editing ? "Скрипт сохранён" : "Скрипт добавлен", "ok");
      editing = saved;
      editorTitle.textContent = `Скрипт: ${saved.title}`;
      await load();
    } catch (err) {
      error.textContent = err.message;
      error.hidden = false;
    } finally {
      button.disabled = false;
    }
  });
  search.addEventListener("submit", (event) => { event.preventDefault(); load(); });
  document.getElementById("new-script").addEventListener("click", startNew);

  Admin.dictionaries().then((d) => {
    dict = d;
    Admin.fill(editor.elements.topic_code, Admin.topicPairs(d));
    Admin.fill(editor.elements.organization_id, d.organizations.map((o) => [o.id, o.name]));
    load();
  }).catch(Hotline.fail);
})();
