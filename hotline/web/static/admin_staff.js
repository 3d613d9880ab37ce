/* Staff accounts: the directory (GET /api/v1/staff); a new account (POST /api/v1/staff); per
   account, a change of role, level or phone (PATCH /api/v1/staff/{id}), disable / enable
   (POST /api/v1/staff/{id}/disable|enable) and a new password (POST .../password). Only the
   steps the server says this user may take (`may_run`, `may_password`, `roles`) are shown. */
"use strict";

(() => {
  const { h } = Hotline;
  const tbody = document.querySelector("#staff tbody");
  const addButton = document.querySelector("[data-testid=add-user]");
  addButton.addEventListener("click", () => create().catch(Hotline.fail));
  const me = Hotline.pageData().user_id;
  const roleTitle = (code) => Hotline.label("roles", code);
  let dict = null;
  let giveable = [];

  function role(user) {
    const title = roleTitle(user.role);
    return user.level ? `${title} ${user.level}-го уровня` : title;
  }

  async function disable(user) {
    const done = await Admin.confirmDialog({
      title: `Отключить учётную запись ${user.login}?`,
      text: `${user.full_name}: вход будет запрещён, все открытые страницы сотрудника перестанут работать.`,
      confirm: "Отключить", danger: true,
      run: () => Hotline.api("POST", `/api/v1/staff/${user.id}/disable`),
    });
    if (done) {
      Hotline.toast(`Учётная запись ${user.login} отключена`, "ok");
      await load();
    }
  }

  async function enable(user) {
    await Hotline.api("POST", `/api/v1/staff/${user.id}/enable`);
    Hotline.toast(`Учётная запись ${user.login} включена`, "ok");
    await load();
  }

  async function password(user) {
    const done = await Admin.confirmDialog({
      title: `Новый пароль для ${user.login}`,
      text: "Не короче 8 символов. Прежний пароль и все сеансы сотрудника перестанут действовать.",
      confirm: "Задать пароль",
      fields: [
        { label: "Новый пароль", name: "password", type: "password", required: true },
        { label: "Ещё раз", name: "again", type: "password", required: true },
      ],
      run: (values) => {
        if (values.password !== values.again) throw new Error("Пароли не совпадают");
        return Hotline.api("POST", `/api/v1/staff/${user.id}/password`, { password: values.password });
      },
    });
    if (done) Hotline.toast(`Пароль пользователя ${user.login} изменён`, "ok");
  }

  const levelOptions = [["", "—"], ["1", "1"], ["2", "2"], ["3", "3"]];
  const roleOptions = () => giveable.map((r) => [r, roleTitle(r)]);

  async function create() {
    const orgs = dict.organizations.map((o) => [o.code, o.name]);
    const done = await Admin.confirmDialog({
      title: "Новая учётная запись",
      text: "Телефон — один из телефонов организации (например, PJSIP/op101). Пароль не короче 8 символов.",
      confirm: "Создать",
      fields: [
        { label: "Логин", name: "login", required: true },
        { label: "ФИО", name: "full_name", required: true },
        { label: "Организация", name: "organization", type: "select", options: orgs, required: true },
        { label: "Роль", name: "role", type: "select", options: roleOptions(), required: true },
        { label: "Уровень (оператору)", name: "level", type: "select", options: levelOptions },
        { label: "Телефон", name: "interface" },
        { label: "Пароль", name: "password", type: "password", required: true },
      ],
      run: (v) => Hotline.api("POST", "/api/v1/staff", { ...v, level: v.level || null, interface: v.interface || null }),
    });
    if (done) {
      Hotline.toast(`Учётная запись ${done.login} создана`, "ok");
      await load();
    }
  }

  async function change(user) {
    const roles = roleOptions();
    const fields = [
      { label: "Уровень (оператору)", name: "level", type: "select", options: levelOptions,
        value: user.level ? String(user.level) : "" },
      { label: "Телефон", name: "interface", value: user.interface || "" },
    ];
    if (user.id !== me && roles.some(([r]) => r === user.role)) {
      fields.unshift({ label: "Роль", name: "role", type: "select", options: roles, value: user.role });
    }
    const done = await Admin.confirmDialog({
      title: `Изменить учётную запись ${user.login}`,
      text: "Открытые страницы сотрудника переподключатся с новыми правами.",
      confirm: "Сохранить", fields,
      run: (v) => Hotline.api("PATCH", `/api/v1/staff/${user.id}`,
        { ...v, level: v.level || null, interface: v.interface || null }),
    });
    if (done) {
      Hotline.toast(`Учётная запись ${user.login} изменена`, "ok");
      await load();
    }
  }

  function row(user) {
    const actions = h("div", { class: "row-actions" });
    if (user.may_run) {
      actions.append(user.active
        ? h("button", { type: "button", class: "danger", "data-testid": "disable" }, "Отключить")
        : h("button", { type: "button", "data-testid": "enable" }, "Включить"));
      const edit = h("button", { type: "button", "data-testid": "change" }, "Изменить");
      edit.addEventListener("click", () => change(user).catch(Hotline.fail));
      actions.append(edit);
    }
    if (user.may_password) {
      const reset = h("button", { type: "button", "data-testid": "password" }, "Новый пароль");
      reset.addEventListener("click", () => password(user).catch(Hotline.fail));
      actions.append(reset);
    }
    const toggle = actions.querySelector("[data-testid=disable], [data-testid=enable]");
    if (toggle) {
      toggle.addEventListener("click", () => (user.active ? disable(user) : enable(user)).catch(Hotline.fail));
    }
    return h("tr", { class: user.active ? "" : "inactive", "data-testid": "staff-row", "data-login": user.login },
      h("td", {}, user.full_name),
      h("td", {}, user.login),
      h("td", {}, dict.byOrg[user.organization_id] || "—"),
      h("td", {}, role(user)),
      h("td", {}, user.interface || "—"),
      h("td", { "data-testid": "state" }, user.active ? "действует" : "отключена"),
      h("td", {}, actions));
  }

  async function load() {
    try {
      const { items, roles } = await Hotline.api("GET", "/api/v1/staff");
      giveable = roles;
      addButton.hidden = !roles.length;
      tbody.replaceChildren(...items.map(row));
    } catch (err) {
      Hotline.fail(err);
    }
  }

  Admin.dictionaries().then((d) => { dict = d; load(); }).catch(Hotline.fail);
})();
