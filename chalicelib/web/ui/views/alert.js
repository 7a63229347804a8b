// One alert (GET /alerts/{id}): rule and version, subject, the metric against its threshold, the
// evidence (bets, slips, shops), the events timeline, and the case: acknowledge, note, escalate,
// resolve with an outcome, snooze the rule for the subject, link a writer to a customer.

import { path } from "../api.js";
import { actionForm, badge, choice, facts, field, h, link, replaceKeepingFocus, section } from "../dom.js";
import { metricValue, money, OUTCOMES, time, UNRESOLVED, words } from "../format.js";
import { subjectLink } from "./alerts.js";
import { timeline } from "./subject.js";

function metric(m, currency) {
  const over = m.threshold ? Math.round((m.value / m.threshold) * 100) : null;
  return h(
    "div",
    { class: "metric" },
    h(
      "p",
      { class: "metric-figures" },
      h("span", { class: "metric-value" }, metricValue(m.value, m.unit, currency)),
      ` ${words(m.name)} against a threshold of ${metricValue(m.threshold, m.unit, currency)}`,
      over != null ? ` (${over}%)` : null,
    ),
    h("meter", {
      min: 0,
      max: Math.max(m.value, m.threshold) * 1.25 || 1,
      high: m.threshold,
      optimum: 0,
      value: m.value,
      "aria-label": `${words(m.name)}: ${over ?? "?"}% of the threshold`,
    }),
  );
}

function betList(ids, empty) {
  if (!ids.length) return h("p", { class: "empty" }, empty);
  return h(
    "ul",
    { class: "ids" },
    ids.map((id) => h("li", {}, link(path`#/bets/${id}`, id, { "data-key": id }))),
  );
}

function events(list) {
  if (!list.length) return h("p", { class: "empty" }, "No events yet.");
  return timeline(list, (e) => (e.status ? [" — now ", badge(words(e.status), `status-${e.status}`)] : null));
}

// Which status each action may start from (as the API's TRANSITIONS).
const FROM = {
  acknowledge: ["open", "escalated"],
  escalate: ["open", "acknowledged"],
  resolve: ["acknowledged", "escalated"],
};
const SNOOZE_HOURS = [
  [4, "4 hours"],
  [24, "1 day"],
  [72, "3 days"],
  [168, "1 week"],
  [720, "30 days"],
];

function note(id, label = "Note (optional)") {
  return field(label, h("textarea", { id, name: "note", maxlength: 2000, rows: 2 }));
}

const noteOf = (form) => form.elements.note?.value.trim() || null;

function caseActions(ctx, a, reload) {
  const id = a.alert_id;
  const act = (verb, body) => ctx.api.post(path`/alerts/${id}/${verb}`, body, { signal: ctx.signal });
  const forms = [];
  const done = (message) => (result) => reload(result, message);
  if (FROM.acknowledge.includes(a.status)) {
    forms.push(
      actionForm(
        { label: "Acknowledge", act: (f) => act("acknowledge", { note: noteOf(f) }), done: done("Acknowledged: the case is yours.") },
        h("h3", {}, "Acknowledge"),
        h("p", { class: "hint" }, "Take the case; it is assigned to you."),
        note("ack-note"),
        h("div", { class: "row" }, h("button", { type: "submit" }, "Acknowledge")),
      ),
    );
  }
  if (FROM.resolve.includes(a.status)) {
    forms.push(
      actionForm(
        {
          label: "Resolve",
          act: (f) => act("resolve", { outcome: f.elements.outcome.value, note: noteOf(f) }),
          done: done("Resolved."),
        },
        h("h3", {}, "Resolve"),
        field("Outcome", choice("resolve-outcome", OUTCOMES, "confirmed_risk", { name: "outcome", required: true })),
        note("resolve-note"),
        h("div", { class: "row" }, h("button", { type: "submit" }, "Resolve")),
      ),
    );
  }
  if (FROM.escalate.includes(a.status)) {
    forms.push(
      actionForm(
        { label: "Escalate", act: (f) => act("escalate", { note: noteOf(f) }), done: done("Escalated.") },
        h("h3", {}, "Escalate"),
        h("p", { class: "hint" }, "Pass it to a senior or the compliance team."),
        note("escalate-note"),
        h("div", { class: "row" }, h("button", { type: "submit", class: "secondary" }, "Escalate")),
      ),
    );
  }
  forms.push(
    actionForm(
      {
        label: "Add a note",
        act: async (f) => {
          const text = f.elements.note.value.trim();
          if (!text) throw new Error("Write the note first.");
          return act("notes", { note: text });
        },
        done: done("Note added."),
      },
      h("h3", {}, "Add a note"),
      field("Note", h("textarea", { id: "case-note", name: "note", maxlength: 2000, rows: 2, required: true })),
      h("div", { class: "row" }, h("button", { type: "submit", class: "secondary" }, "Add note")),
    ),
  );
  if (UNRESOLVED.has(a.status)) {
    forms.push(
      actionForm(
        {
          label: "Snooze",
          act: (f) => act("snooze", { hours: Number(f.elements.hours.value), note: noteOf(f) }),
          done: done("Snoozed: no alert of this rule about this subject until it ends."),
        },
        h("h3", {}, "Snooze"),
        field("For", choice("snooze-hours", SNOOZE_HOURS, 24, { name: "hours" })),
        note("snooze-note"),
        h("div", { class: "row" }, h("button", { type: "submit", class: "secondary" }, "Snooze")),
      ),
    );
  }
  return forms;
}

/** Tag a writer to a customer from the alert: the alert's writer to a customer, or a writer of its slips to its customer. */
function linkForm(ctx, a, writers, reload) {
  const onWriter = a.subject.kind === "writer";
  if (!onWriter && a.subject.kind !== "customer") return null;
  const list = h("datalist", { id: "link-writers" }, writers.map((w) => h("option", { value: w })));
  const other = h("input", {
    id: onWriter ? "link-customer" : "link-writer",
    name: "other",
    required: true,
    autocomplete: "off",
    spellcheck: "false",
    list: onWriter ? null : "link-writers",
  });
  return actionForm(
    {
      label: "Link a writer to a customer",
      act: (f) => {
        const value = f.elements.other.value.trim();
        const [writer, customer] = onWriter ? [a.subject.id, value] : [value, a.subject.id];
        return ctx.api.post(path`/writers/${writer}/tags`, { customer_id: customer }, { signal: ctx.signal });
      },
      done: (r) => reload(null, `Writer ${r.writer_id} is now linked to customer ${r.customer_id} (${r.bets_copied} bets counted for the customer).`),
    },
    h("h3", {}, "Link a writer to a customer"),
    onWriter
      ? field(`Customer to link writer ${a.subject.id} to`, other)
      : field(`Writer to link to customer ${a.subject.id}`, other, writers.length ? `Writers of this alert's slips: ${writers.join(", ")}` : null),
    list,
    h("div", { class: "row" }, h("button", { type: "submit", class: "secondary" }, "Link")),
  );
}

async function slipWriters(ctx, a) {
  const got = await Promise.all(
    a.evidence.slip_ids.slice(0, 20).map((b) => ctx.api.get(path`/bets/${b}/slip`, { signal: ctx.signal }).catch(() => null)),
  );
  return [...new Set(got.map((s) => s?.writer_id).filter(Boolean))];
}

export default async function alertView(ctx) {
  let a = await ctx.api.get(path`/alerts/${ctx.params.id}`, { signal: ctx.signal });
  const subjectRoute = a.subject.kind === "writer" ? path`/writers/${a.subject.id}` : path`/customers/${a.subject.id}`;
  // The subject's own figures, for context (and the deployment's currency); the page stands without them.
  const [subject, writers] = await Promise.all([
    ctx.api.get(subjectRoute, { signal: ctx.signal }).catch((err) => {
      if (err.name === "AbortError") throw err;
      return null;
    }),
    a.subject.kind === "customer" ? slipWriters(ctx, a) : [],
  ]);
  const currency = subject?.currency;
  const outcome = h("p", { class: "notice", role: "status", "aria-live": "polite", hidden: true });
  const body = h("div", { class: "alert-body" });

  async function reload(updated, message) {
    a = updated ?? (await ctx.api.get(path`/alerts/${a.alert_id}`, { signal: ctx.signal }));
    draw();
    outcome.hidden = false;
    outcome.textContent = message;
    body.querySelector("#s-case")?.focus();
  }

  function draw() {
    const e = a.evidence;
    replaceKeepingFocus(body, 
      h("p", { class: "badges" }, badge(a.severity, a.severity), " ", badge(words(a.status), `status-${a.status}`), a.outcome ? [" ", badge(`outcome: ${words(a.outcome)}`, "info")] : null),
      h("p", { class: "detail" }, a.detail),
      h(
        "div",
        { class: "columns" },
        section(
          "Summary",
          facts([
            ["Alert", a.alert_id],
            ["Rule", `${a.rule_id} (version ${a.rule_version})`],
            ["Subject", subjectLink(a.subject)],
            ["Window", a.window_hours ? `${a.window_hours} hours` : null],
            ["Raised", time(a.raised_at)],
            ["Published", a.published_at ? time(a.published_at) : "not yet"],
            ["Assignee", a.assignee],
            ["Subject, last 24 h", subject ? `${subject.windows["24h"]?.bets ?? 0} bets, ${money(subject.windows["24h"]?.stake_minor, currency)}` : null],
          ]),
        ),
        section("Metric", metric(a.metric, currency)),
      ),
      h(
        "div",
        { class: "columns" },
        section("Evidence: bets", betList(e.bet_ids, "No bets listed.")),
        section("Evidence: slips", betList(e.slip_ids, "No slips behind this alert.")),
        section("Shops", e.shops.length ? h("ul", { class: "ids" }, e.shops.map((s) => h("li", {}, s))) : h("p", { class: "empty" }, "No shop (online bets).")),
      ),
      caseSection(),
      section("Events", events(a.events)),
    );
  }

  function caseSection() {
    const s = section(
      "Case",
      a.status === "resolved" ? h("p", {}, `Resolved${a.outcome ? ` as ${words(a.outcome)}` : ""}. Notes can still be added.`) : null,
      h("div", { class: "actions" }, caseActions(ctx, a, reload), linkForm(ctx, a, writers, reload)),
    );
    s.querySelector("h2").setAttribute("tabindex", "-1");
    return s;
  }

  draw();
  return h("div", { class: "page" }, h("p", { class: "crumbs" }, link("#/alerts", "← Alerts")), h("h1", { tabindex: "-1" }, a.title), outcome, body);
}
