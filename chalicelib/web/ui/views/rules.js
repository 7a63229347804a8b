// The rule catalogue (GET /rules) and one rule (GET /rules/{id}): its versions, shadow hits (the
// alerts a rule in shadow mode recorded without sending) and who changed it. Admins enable or
// disable a rule and move it between active and shadow mode (a new version); staff read.

import { path } from "../api.js";
import { badge, choice, facts, field, h, link, replaceKeepingFocus, section, table } from "../dom.js";
import { metricValue, time, words } from "../format.js";
import { subjectLink } from "./alerts.js";
import { auditSection, optional } from "./subject.js";

const ADMIN = ["admin"];
const HIT_DAYS = [
  [1, "last day"],
  [7, "last 7 days"],
  [31, "last 31 days"],
];

function modeBadge(rule) {
  return [
    badge(rule.enabled ? "enabled" : "disabled", rule.enabled ? "status-resolved" : "off"),
    " ",
    badge(rule.mode === "shadow" ? "shadow mode" : "active", `mode-${rule.mode}`),
  ];
}

/** The rule as a client sends it for a new version (RuleSpec), with some fields changed. */
function specOf(rule, changes) {
  const { rule_id: _id, version: _v, updated_by: _by, updated_at: _at, ...spec } = rule;
  return { ...spec, ...changes };
}

function params(p) {
  const { kind: _kind, ...rest } = p;
  return h("p", { class: "params" }, Object.entries(rest).map(([k, v]) => `${k} = ${Array.isArray(v) ? v.join(", ") : v}`).join("\n") || "—");
}

function ruleActions(ctx, rule, done) {
  if (!ctx.session.may(ADMIN)) return h("p", { class: "readonly-note" }, "Only an admin can change rules.");
  const act = async (event, work, message) => {
    const buttons = event.target.closest(".row").querySelectorAll("button");
    buttons.forEach((b) => (b.disabled = true));
    try {
      const updated = await work();
      await done(updated, message(updated));
    } catch (err) {
      if (err.name === "AbortError") return;
      await done(null, `Could not change ${rule.rule_id}: ${err.message}`);
    } finally {
      buttons.forEach((b) => (b.disabled = false));
    }
  };
  const id = rule.rule_id;
  return h(
    "span",
    { class: "row" },
    h(
      "button",
      {
        type: "button",
        class: rule.enabled ? "secondary" : null,
        "aria-label": `${rule.enabled ? "Disable" : "Enable"} ${rule.name}`,
        onClick: (e) =>
          act(
            e,
            () => ctx.api.post(path`/rules/${id}/${rule.enabled ? "disable" : "enable"}`, undefined, { signal: ctx.signal }),
            (r) => `${r.name} is now ${r.enabled ? "enabled" : "disabled"} (version ${r.version}).`,
          ),
      },
      rule.enabled ? "Disable" : "Enable",
    ),
    " ",
    h(
      "button",
      {
        type: "button",
        class: "secondary",
        "aria-label": `${rule.mode === "shadow" ? "Make active" : "Put in shadow mode"}: ${rule.name}`,
        onClick: (e) =>
          act(
            e,
            () =>
              ctx.api.put(path`/rules/${id}`, specOf(rule, { mode: rule.mode === "shadow" ? "active" : "shadow" }), {
                query: { expected_version: rule.version },
                signal: ctx.signal,
              }),
            (r) => `${r.name} is now ${r.mode === "shadow" ? "in shadow mode: hits are recorded, nothing is sent" : "active"} (version ${r.version}).`,
          ),
      },
      rule.mode === "shadow" ? "Make active" : "Shadow mode",
    ),
  );
}

async function catalogue(ctx) {
  const status = h("p", { class: "notice", role: "status", "aria-live": "polite", hidden: true });
  const list = h("div", { class: "list" });
  const admin = ctx.session.may(ADMIN);
  async function draw(_updated, message) {
    const { rules } = await ctx.api.get("/rules", { signal: ctx.signal });
    replaceKeepingFocus(
      list,
      admin ? null : h("p", { class: "readonly-note" }, "Only an admin can change rules; you can read them and their shadow hits."),
      table(
        "Rules",
        ["Rule", "Kind", "Subject", "State", "Version", "Changed", ...(admin ? ["Change"] : [])],
        rules.map((r) => [
          link(path`#/rules/${r.rule_id}`, r.name, { "data-key": r.rule_id }),
          words(r.params.kind),
          words(r.subject_kind),
          modeBadge(r),
          String(r.version),
          [time(r.updated_at), ` by ${r.updated_by}`],
          ...(admin ? [ruleActions(ctx, r, draw)] : []),
        ]),
        { id: "rules-table" },
      ),
    );
    if (message) {
      status.hidden = false;
      status.textContent = message;
    }
  }
  await draw();
  return h(
    "div",
    { class: "page" },
    h("h1", { tabindex: "-1" }, "Rules"),
    h("p", { class: "detail" }, "What raises alerts. A rule in shadow mode records its hits without sending anything, to try a change before it goes live."),
    status,
    list,
  );
}

async function one(ctx) {
  const id = ctx.params.id;
  const status = h("p", { class: "notice", role: "status", "aria-live": "polite", hidden: true });
  const body = h("div", {});
  const daysSelect = choice("hit-days", HIT_DAYS, 7);
  const hitsRegion = h("div", {});
  const heading = h("h1", { tabindex: "-1" });

  async function hits() {
    const got = await optional(
      ctx.api.get("/alerts", { query: { shadow: true, rule_id: id, days: Number(daysSelect.value), limit: 200 }, signal: ctx.signal }),
    );
    hitsRegion.replaceChildren(
      got == null
        ? h("p", { class: "error" }, "Could not load the shadow hits.")
        : got.alerts.length
          ? table(
              "Shadow hits",
              ["Hit", "Severity", "Subject", "Metric / threshold", "At"],
              got.alerts.map((a) => [a.title, badge(a.severity, a.severity), subjectLink(a.subject), `${metricValue(a.metric.value, a.metric.unit)} / ${metricValue(a.metric.threshold, a.metric.unit)}`, time(a.raised_at)]),
              { id: "shadow-hits" },
            )
          : h("p", { class: "empty" }, "No shadow hits in this period."),
    );
  }
  daysSelect.addEventListener("change", hits);

  async function draw(_updated, message) {
    const [rule, versions, audit] = await Promise.all([
      ctx.api.get(path`/rules/${id}`, { signal: ctx.signal }),
      optional(ctx.api.get(path`/rules/${id}/versions`, { signal: ctx.signal }).then((b) => b.versions)),
      optional(ctx.api.get(path`/rules/${id}/audit`, { signal: ctx.signal }).then((b) => b.events)),
    ]);
    heading.textContent = `Rule: ${rule.name}`;
    replaceKeepingFocus(body, 
      h("p", { class: "badges" }, modeBadge(rule)),
      rule.description ? h("p", { class: "detail" }, rule.description) : null,
      h(
        "div",
        { class: "columns" },
        section(
          "Definition",
          facts([
            ["Rule id", rule.rule_id],
            ["Kind", words(rule.params.kind)],
            ["Subject", words(rule.subject_kind)],
            ["Trigger", rule.trigger ?? "default"],
            ["Cooldown", rule.cooldown_minutes ? `${rule.cooldown_minutes} min` : "the rule's window"],
            ["Severity bands", rule.bands.map((b) => `${b.severity} from ×${b.min_ratio}`).join(", ")],
            ["Version", String(rule.version)],
          ]),
          params(rule.params),
        ),
        section("Change", ruleActions(ctx, rule, draw)),
      ),
      section(
        "Versions",
        versions == null
          ? h("p", { class: "error" }, "Could not load the versions.")
          : table(
              "Versions",
              ["Version", "State", "Parameters", "Changed"],
              [...versions].reverse().map((v) => [String(v.version), modeBadge(v), params(v.params), [time(v.updated_at), ` by ${v.updated_by}`]]),
              { id: "versions-table" },
            ),
      ),
      section("Shadow hits", h("div", { class: "filters" }, field("Recorded in the", daysSelect)), hitsRegion),
      auditSection(audit),
    );
    if (message) {
      status.hidden = false;
      status.textContent = message;
    }
  }
  await Promise.all([draw(), hits()]);
  return h("div", { class: "page" }, h("p", { class: "crumbs" }, link("#/rules", "← Rules")), heading, status, body);
}

export default async function rulesView(ctx) {
  return ctx.params.id ? one(ctx) : catalogue(ctx);
}
