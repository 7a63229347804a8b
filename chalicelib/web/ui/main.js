// Boot: the session, the API client, the router and the shell; renders one view at a time.

import { createApi } from "./api.js";
import { h } from "./dom.js";
import { createRouter } from "./router.js";
import { HOME, routes } from "./routes.js";
import { createSession } from "./session.js";
import { createShell } from "./shell.js";
import { errorView, notFound } from "./views/errors.js";

// main.js is served at <api>/ui/assets/<key>/main.js: the API's root, stage prefix included.
const base = new URL("../../../", import.meta.url);
const app = document.getElementById("app");
const session = createSession();
const api = createApi({ base, session, onUnauthorised: () => signOut("expired") });
const router = createRouter(routes, render);
const shell = createShell({
  routes,
  session,
  navigate: (p) => router.navigate(p),
  logout: () => signOut("signed-out"),
  openAlerts: () => api.get("/alerts/count", { query: { status: "open" } }),
});
let expiryTimer = null;

function currentHash() {
  return location.hash.startsWith("#/") ? location.hash.slice(1) : "";
}

function signOut(reason) {
  const next = currentHash();
  session.end();
  shell.main.replaceChildren(); // nothing of the last page stays on a shared screen
  if (next.startsWith("/login")) return;
  router.navigate("/login", { reason, ...(reason === "expired" && next ? { next } : {}) }, { replace: true });
}

function watchExpiry() {
  clearTimeout(expiryTimer);
  const s = session.current();
  if (s) expiryTimer = setTimeout(() => signOut("expired"), Math.max(0, s.expiresAt - Date.now()));
}

function mount(layout) {
  if (app.firstElementChild !== layout) app.replaceChildren(layout);
}

async function render({ route, params, query, path, signal }) {
  const signedIn = session.current();
  if (path === "/") return router.navigate(signedIn ? HOME : "/login", null, { replace: true });
  if (route && !route.public && !signedIn) {
    return router.navigate("/login", { next: currentHash() }, { replace: true });
  }
  if (route?.path === "/login" && signedIn) return router.navigate(HOME, null, { replace: true });

  let main;
  if (route?.public) {
    main = h("main", { id: "main", class: "bare", tabindex: "-1" });
    mount(main);
  } else {
    mount(shell.node);
    shell.update(route);
    main = shell.main;
  }
  main.setAttribute("aria-busy", "true");
  main.replaceChildren(h("p", { class: "loading" }, "Loading…"));

  const ctx = {
    api,
    session,
    params,
    query,
    route,
    signal,
    navigate: router.navigate,
    remember: (q) => router.remember(path, q),
    onSignedIn: watchExpiry,
    /** Call fn every ms while this view is shown (skipped while the tab is hidden). */
    repeat(ms, fn) {
      const timer = setInterval(() => document.hidden || fn(), ms);
      signal.addEventListener("abort", () => clearInterval(timer));
    },
  };
  let node;
  try {
    if (!route) node = notFound();
    else if (!route.public && !session.may(route.roles)) node = errorView({ status: 403, message: "Your role may not open this page." });
    else node = await (await route.view()).default(ctx);
  } catch (err) {
    if (signal.aborted || err.name === "AbortError") return;
    node = errorView(err, () => router.navigate(path, query));
  }
  if (signal.aborted) return;
  main.replaceChildren(node);
  main.removeAttribute("aria-busy");
  document.title = `${main.querySelector("h1")?.textContent ?? "betwatch"} — betwatch staff`;
  // Move focus to the new page (screen readers announce its heading), or to the field it asks for.
  (main.querySelector("[data-autofocus]") ?? main.querySelector("h1") ?? main).focus();
}

watchExpiry();
router.start();
