/* Staff accounts: the directory (GET /api/v1/staff) with, per account, disable / enable
   (POST /api/v1/staff/{id}/disable|enable) and a new password (POST .../password). */
"use strict";

(() => {
  const { h } = Hotline;
  const tbody = document.querySelector("#staff tbody");
  const me = Hotline.pageData().user_id;
  const ROLES = { operator: "оператор", admin: "администратор", sysadmin: "системный администратор" };
  let dict = null;

  function role(user) {
    const title = ROLES[user.role] || user.role;
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

  function row(user) {
    const actions = h("div", { class: "row-actions" });
    if (user.id !== me) {
      actions.append(user.active
        ? h("button", { type: "button", class: "danger", "data-testid": "disable" }, "Отключить")
        : h("button", { type: "button", "data-testid": "enable" }, "Включить"));
    }
    actions.append(h("button", { type: "button", "data-testid": "password" }, "Новый пароль"));
    const [toggle, reset] = [actions.querySelector("[data-testid=disable], [data-testid=enable]"),
      actions.querySelector("[data-testid=password]")];
    if (toggle) {
      toggle.addEventListener("click", () => (user.active ? disable(user) : enable(user)).catch(Hotline.fail));
    }
    reset.addEventListener("click", () => password(user).catch(Hotline.fail));
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
      const { items } = await Hotline.api("GET", "/api/v1/staff");
      tbody.replaceChildren(...items.map(row));
    } catch (err) {
      Hotline.fail(err);
    }
  }

  Admin.dictionaries().then((d) => { dict = d; load(); }).catch(Hotline.fail);
})();
