// A page whose API is not there yet: what it will show, clearly marked.

import { h, soon } from "../dom.js";

export default async function soonView(ctx) {
  return h(
    "div",
    { class: "page" },
    h("h1", { tabindex: "-1" }, ctx.route.nav),
    soon(ctx.route.soon),
    h("p", {}, "This page is waiting for its API. Until then, the alerts and the look-up box above work."),
  );
}
