// Every page of the app. To add one: write views/<name>.js (a default export `async (ctx) => Node`)
// and add a line here; `nav` puts it in the main menu, `soon` marks a page whose API is not there yet.

const STAFF = ["staff"]; // admin may see everything too (session.may)

export const routes = [
  { path: "/login", view: () => import("./views/login.js"), public: true },
  { path: "/alerts", view: () => import("./views/alerts.js"), nav: "Alerts", roles: STAFF },
  { path: "/alerts/:id", view: () => import("./views/alert.js"), roles: STAFF, section: "/alerts" },
  { path: "/bets/:id", view: () => import("./views/bet.js"), roles: STAFF },
  { path: "/customers/:id", view: () => import("./views/customer.js"), roles: STAFF },
  { path: "/writers/:id", view: () => import("./views/writer.js"), roles: STAFF },
  { path: "/feed", view: () => import("./views/feed.js"), nav: "Live feed", roles: STAFF },
  { path: "/risk", view: () => import("./views/feed.js"), nav: "Risk feed", roles: STAFF, kind: "risk" },
  {
    path: "/reports",
    view: () => import("./views/soon.js"),
    nav: "Reports",
    roles: STAFF,
    soon: "The daily and weekly reports with their charts: stakes, alerts raised and resolved, slips linked.",
  },
  {
    path: "/rules",
    view: () => import("./views/soon.js"),
    nav: "Rules",
    roles: STAFF,
    soon: "The rule catalogue: each rule's thresholds and version, enable or disable it, and its shadow hits.",
  },
];

export const HOME = "/alerts";
