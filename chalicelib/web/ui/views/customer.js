// A customer (GET /customers/{id}): totals and windows, the client category (set or clear, with a
// reason; PUT /customers/{id}/category), the whitelist (PUT/DELETE /customers/{id}/whitelist),
// linked writers (untag), slips, alerts and the history of staff actions.

import { path } from "../api.js";
import { actionForm, choice, facts, field, h, link, replaceKeepingFocus, section } from "../dom.js";
import { CATEGORIES, CATEGORY_LABELS, time } from "../format.js";
import { categoryBadge } from "./feed.js";
import { alertsSection, auditSection, idList, optional, subjectAlerts, totals } from "./subject.js";

const WHITELIST_DAYS = [
  [1, "1 day"],
  [7, "7 days"],
  [30, "30 days"],
  [90, "90 days"],
  [365, "1 year"],
];

function categoryForms(ctx, id, s, reload) {
  const reason = h("textarea", { id: "category-reason", name: "reason", required: true, minlength: 3, maxlength: 500, rows: 2 });
  return actionForm(
    {
      label: "Client category",
      act: (form, submitter) => {
        const clear = submitter?.value === "clear";
        const category = clear ? "none" : form.elements.category.value;
        return ctx.api.put(path`/customers/${id}/category`, { category, reason: form.elements.reason.value.trim() }, { signal: ctx.signal });
      },
      done: (st) => reload(st.category === "none" ? "Category cleared." : `Category set to ${CATEGORY_LABELS[st.category]}.`),
    },
    h("h3", {}, "Set or clear the category"),
    field("Category", choice("category", CATEGORIES.filter((c) => c !== "none").map((c) => [c, CATEGORY_LABELS[c]]), s.category === "none" ? "watchlist" : s.category, { name: "category" })),
    field("Reason (kept in the audit trail)", reason),
    h(
      "div",
      { class: "row" },
      h("button", { type: "submit", value: "set" }, "Set category"),
      s.category !== "none" ? h("button", { type: "submit", value: "clear", class: "secondary" }, "Clear category") : null,
    ),
  );
}

function whitelistForm(ctx, id, s, reload) {
  return actionForm(
    {
      label: "Whitelist",
      act: (form, submitter) => {
        if (submitter?.value === "end") return ctx.api.del(path`/customers/${id}/whitelist`, { signal: ctx.signal });
        const days = Number(form.elements.days.value);
        const until = new Date(Date.now() + days * 86_400_000).toISOString();
        return ctx.api.put(path`/customers/${id}/whitelist`, { until, reason: form.elements.reason.value.trim() }, { signal: ctx.signal });
      },
      done: (st) => reload(st.whitelisted_until ? "Whitelisted." : "Whitelist ended."),
    },
    h("h3", {}, "Whitelist"),
    h("p", { class: "hint" }, "A whitelisted customer's risk scores are damped until it ends."),
    field("For", choice("whitelist-days", WHITELIST_DAYS, 30, { name: "days" })),
    field("Reason", h("textarea", { id: "whitelist-reason", name: "reason", required: true, minlength: 3, maxlength: 500, rows: 2 })),
    h(
      "div",
      { class: "row" },
      h("button", { type: "submit", value: "set", class: "secondary" }, "Whitelist"),
      s.whitelisted_until ? h("button", { type: "submit", value: "end", class: "secondary", formnovalidate: true }, "End whitelist") : null,
    ),
  );
}

export default async function customerView(ctx) {
  const id = ctx.params.id;
  const status = h("p", { class: "notice", role: "status", "aria-live": "polite", hidden: true });
  const body = h("div", { class: "subject-body" });

  async function load() {
    return Promise.all([
      ctx.api.get(path`/customers/${id}`, { signal: ctx.signal }),
      subjectAlerts(ctx, "customer", id),
      optional(ctx.api.get(path`/customers/${id}/audit`, { signal: ctx.signal }).then((b) => b.events)),
    ]);
  }

  async function reload(message) {
    draw(...(await load()));
    status.hidden = false;
    status.textContent = message;
    body.querySelector("#s-client-category")?.focus();
  }

  function draw(s, alerts, audit) {
    const untag = (writer) =>
      h(
        "button",
        {
          type: "button",
          class: "secondary",
          "aria-label": `Unlink writer ${writer}`,
          async onClick(event) {
            event.target.disabled = true;
            try {
              await ctx.api.del(path`/writers/${writer}/tags/${id}`, { signal: ctx.signal });
              await reload(`Writer ${writer} unlinked.`);
            } catch (err) {
              status.hidden = false;
              status.textContent = `Could not unlink: ${err.message}`;
              event.target.disabled = false;
            }
          },
        },
        "Unlink",
      );
    const cat = section(
      "Client category",
      facts([
        ["Category", categoryBadge(s.category) ?? "none"],
        ["Reason", s.category_reason],
        ["Whitelisted until", s.whitelisted_until ? time(s.whitelisted_until) : "not whitelisted"],
      ]),
      h("div", { class: "actions" }, categoryForms(ctx, id, s, reload), whitelistForm(ctx, id, s, reload)),
    );
    cat.querySelector("h2").setAttribute("tabindex", "-1");
    replaceKeepingFocus(body, 
      h("div", { class: "columns" }, totals(s), section("Linked writers", idList(s.linked, "writers", "None linked yet.", untag)), section("Slips (by bet)", idList(s.slips, "bets", "No slips."))),
      cat,
      alertsSection(alerts),
      auditSection(audit),
    );
  }

  draw(...(await load()));
  return h(
    "div",
    { class: "page" },
    h("h1", { tabindex: "-1" }, `Customer ${id}`),
    h("p", { class: "crumbs" }, link(`#/reports?kind=customer&id=${encodeURIComponent(id)}`, "Customer report")),
    status,
    body,
  );
}
