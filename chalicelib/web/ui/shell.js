// The frame around every signed-in page: skip link, brand, main menu (with "soon" marks and the
// number of open alerts, GET /alerts/count, read again with every page and each minute), a
// look-up box for ids, who is signed in and their role, and log out.

import { h } from "./dom.js";

const LOOKUPS = [
  ["bets", "Bet"],
  ["customers", "Customer"],
  ["writers", "Writer"],
  ["alerts", "Alert"],
];

const COUNT_REFRESH_MS = 60_000;

export function createShell({ routes, session, navigate, logout, openAlerts }) {
  const main = h("main", { id: "main", tabindex: "-1" });
  // "Alerts 3": the open alerts (nobody has taken them yet), in words for screen readers too.
  const alertCount = h("span", { class: "nav-count", id: "nav-open-alerts", hidden: true });
  let asked = 0;
  async function refreshCount() {
    const mine = ++asked;
    if (!openAlerts || !session.current() || !session.may(["staff"])) return void (alertCount.hidden = true);
    try {
      const c = await openAlerts();
      if (mine !== asked) return; // a later answer is on its way
      alertCount.replaceChildren(`${c.count}${c.capped ? "+" : ""}`, h("span", { class: "visually-hidden" }, " open"));
      alertCount.hidden = c.count === 0;
      // The link keeps its name ("Alerts"); the count is its description.
      alertsLink?.[c.count ? "setAttribute" : "removeAttribute"]("aria-describedby", alertCount.id);
      alertCount.title = `${c.count}${c.capped ? "+" : ""} open alert${c.count === 1 && !c.capped ? "" : "s"}`;
    } catch {
      if (mine === asked) alertCount.hidden = true; // the menu works without it
    }
  }
  setInterval(() => document.hidden || refreshCount(), COUNT_REFRESH_MS);
  const navLinks = routes
    .filter((r) => r.nav)
    .map((r) => ({
      route: r,
      a: h(
        "a",
        { href: `#${r.path}`, class: r.soon ? "nav-soon" : null },
        r.nav,
        r.soon ? h("span", { class: "soon-tag" }, "soon") : null,
      ),
    }));
  const alertsLink = navLinks.find(({ route: r }) => r.path === "/alerts")?.a;
  const who = h("span", { class: "who" });
  const kind = h(
    "select",
    { id: "lookup-kind", "aria-label": "What to look up" },
    LOOKUPS.map(([value, label]) => h("option", { value }, label)),
  );
  const id = h("input", {
    id: "lookup-id",
    type: "search",
    placeholder: "id",
    required: true,
    autocomplete: "off",
    spellcheck: "false",
    "aria-label": "Id to look up",
  });
  const lookup = h(
    "form",
    {
      class: "lookup",
      role: "search",
      "aria-label": "Look up by id",
      onSubmit(event) {
        event.preventDefault();
        const value = id.value.trim();
        if (value) navigate(`/${kind.value}/${encodeURIComponent(value)}`);
      },
    },
    kind,
    id,
    h("button", { type: "submit" }, "Open"),
  );
  const skip = h(
    "a",
    {
      class: "skip",
      href: "#main",
      onClick(event) {
        event.preventDefault();
        main.focus();
      },
    },
    "Skip to content",
  );
  const header = h(
    "header",
    { class: "topbar" },
    h("a", { class: "brand", href: "#/alerts" }, "betwatch"),
    h(
      "nav",
      { "aria-label": "Main" },
      h("ul", {}, navLinks.map(({ route: r, a }) => h("li", {}, a, r.path === "/alerts" ? alertCount : null))),
    ),
    lookup,
    h("div", { class: "user" }, who, h("button", { type: "button", class: "secondary", onClick: logout }, "Log out")),
  );
  const node = h("div", { class: "shell" }, skip, header, main);

  return {
    node,
    main,
    /** Mark the current section in the menu and show who is signed in. */
    update(route) {
      const s = session.current();
      who.replaceChildren(h("span", { class: "user-name" }, s?.user ?? ""), " ", h("span", { class: "role" }, s?.role ?? ""));
      for (const { route: r, a } of navLinks) {
        const current = route && (route.path === r.path || route.section === r.path);
        if (current) a.setAttribute("aria-current", "page");
        else a.removeAttribute("aria-current");
        a.parentElement.hidden = !session.may(r.roles);
      }
      refreshCount();
    },
  };
}
