// The frame around every signed-in page: skip link, brand, main menu (with "soon" marks), a
// look-up box for ids, who is signed in and their role, and log out.

import { h } from "./dom.js";

const LOOKUPS = [
  ["bets", "Bet"],
  ["customers", "Customer"],
  ["writers", "Writer"],
  ["alerts", "Alert"],
];

export function createShell({ routes, session, navigate, logout }) {
  const main = h("main", { id: "main", tabindex: "-1" });
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
    h("nav", { "aria-label": "Main" }, h("ul", {}, navLinks.map(({ a }) => h("li", {}, a)))),
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
    },
  };
}
