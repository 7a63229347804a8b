// Sign in with a staff user (POST /auth/login). Till and website API keys cannot sign in here.

import { h } from "../dom.js";
import { parseHash } from "../router.js";

const REASONS = {
  expired: "Your session has ended. Log in again.",
  "signed-out": "You have logged out.",
};

export default async function login(ctx) {
  const error = h("p", { class: "error", role: "alert", id: "login-error" });
  const username = h("input", {
    id: "username",
    name: "username",
    autocomplete: "username",
    required: true,
    "data-autofocus": true,
    "aria-describedby": "login-error",
  });
  const password = h("input", {
    id: "password",
    name: "password",
    type: "password",
    autocomplete: "current-password",
    required: true,
    "aria-describedby": "login-error",
  });
  const submit = h("button", { type: "submit" }, "Log in");
  const reason = REASONS[ctx.query.get("reason")];

  async function onSubmit(event) {
    event.preventDefault();
    error.textContent = "";
    submit.disabled = true;
    submit.textContent = "Logging in…";
    try {
      const { access_token, expires_in } = await ctx.api.login(username.value.trim(), password.value);
      ctx.session.start(access_token, expires_in);
      ctx.onSignedIn();
      const next = ctx.query.get("next");
      // Only an in-app path: never an address another site could slip into the link.
      const target = next?.startsWith("/") && !next.startsWith("/login") ? parseHash(`#${next}`) : null;
      ctx.navigate(target?.path ?? "/alerts", target?.query);
    } catch (err) {
      error.textContent =
        err.status === 401 ? "Wrong username or password." : err.message || "Could not log in. Try again.";
      password.value = "";
      password.focus();
    } finally {
      submit.disabled = false;
      submit.textContent = "Log in";
    }
  }

  return h(
    "div",
    { class: "login" },
    h(
      "form",
      { class: "card", onSubmit, "aria-labelledby": "login-title", novalidate: false },
      h("h1", { id: "login-title", tabindex: "-1" }, "betwatch staff"),
      reason ? h("p", { class: "notice", role: "status" }, reason) : null,
      h("div", { class: "field" }, h("label", { for: "username" }, "Username"), username),
      h("div", { class: "field" }, h("label", { for: "password" }, "Password"), password),
      error,
      submit,
      h("p", { class: "hint" }, "For shop, trading, compliance and safer-gambling staff. Till API keys cannot log in."),
    ),
  );
}
