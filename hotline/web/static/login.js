/* The sign-in form: POST /api/v1/login, then to the page asked for or the user's start page. */
"use strict";

document.getElementById("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const error = document.getElementById("login-error");
  error.hidden = true;
  const login = form.login.value.trim();
  const password = form.password.value;
  if (!login || !password) {
    error.textContent = "Укажите логин и пароль";
    error.hidden = false;
    return;
  }
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    await Hotline.api("POST", "/api/v1/login", { login, password }, { redirectOn401: false });
    location.assign(form.dataset.next || "/");
  } catch (err) {
    error.textContent = err.message;
    error.hidden = false;
    form.password.value = "";
    form.password.focus();
  } finally {
    button.disabled = false;
  }
});
