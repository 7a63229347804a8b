// What a view shows when it cannot show its data: not found, not allowed, the API unreachable.

import { h, link } from "../dom.js";

export function notFound(message = "There is no page at this address.") {
  return h(
    "div",
    { class: "page" },
    h("h1", { tabindex: "-1" }, "Not found"),
    h("p", {}, message),
    h("p", {}, link("#/alerts", "Back to the alerts")),
  );
}

export function errorView(err, retry) {
  if (err.status === 404) return notFound(err.message);
  const title = err.status === 403 ? "Not allowed" : err.status === 0 ? "Cannot reach the API" : "Something went wrong";
  return h(
    "div",
    { class: "page" },
    h("h1", { tabindex: "-1" }, title),
    h("p", { class: "error", role: "alert" }, err.message || String(err)),
    retry ? h("p", {}, h("button", { type: "button", onClick: retry }, "Try again")) : null,
  );
}
