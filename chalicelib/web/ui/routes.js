// Every page of the app. To add one: write views/<name>.js (a default export `async (ctx) => Node`)
// and add a line here; `nav` puts it in the main menu, `soon` marks a page whose API is not there yet
// (views/soon.js); `kind` and `section` are for the view (one module may serve two routes) and the menu.

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
  { path: "/sms", view: () => import("./views/sms.js"), nav: "SMS requests", roles: STAFF },
  { path: "/reports", view: () => import("./views/reports.js"), nav: "Reports", roles: STAFF },
  { path: "/rules", view: () => import("./views/rules.js"), nav: "Rules", roles: STAFF },
  { path: "/rules/:id", view: () => import("./views/rules.js"), roles: STAFF, section: "/rules" },
];

export const HOME = "/alerts";
