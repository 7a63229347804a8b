// Alerts, newest first (GET /alerts?days=&limit=): how many are unresolved, filters by days,
// status and severity, refreshed every 30 s with the count announced politely to screen readers.

import { path } from "../api.js";
import { badge, h, link, replaceKeepingFocus, table } from "../dom.js";
import { clockTime, metricValue, SEVERITIES, time, UNRESOLVED, words } from "../format.js";

const DAYS = [1, 7, 14, 31];
const STATUSES = [
  ["unresolved", "Unresolved"],
  ["all", "All"],
  ["open", "Open"],
  ["acknowledged", "Acknowledged"],
  ["escalated", "Escalated"],
  ["resolved", "Resolved"],
];
const REFRESH_MS = 30_000;
const LIMIT = 500;

export function subjectLink(subject) {
  const route = subject.kind === "writer" ? "writers" : "customers";
  return link(`#/${route}/${encodeURIComponent(subject.id)}`, `${subject.kind} ${subject.id}`);
}

function select(id, label, options, value, onChange) {
  return h(
    "div",
    { class: "field inline" },
    h("label", { for: id }, label),
    h(
      "select",
      { id, onChange },
      options.map(([v, text]) => h("option", { value: v, selected: String(v) === String(value) }, text)),
    ),
  );
}

function rows(alerts) {
  return alerts.map((a) => [
    link(path`#/alerts/${a.alert_id}`, a.title, { "data-key": a.alert_id }),
    badge(a.severity, a.severity),
    badge(words(a.status), `status-${a.status}`),
    subjectLink(a.subject),
    `${metricValue(a.metric.value, a.metric.unit)} / ${metricValue(a.metric.threshold, a.metric.unit)}`,
    time(a.raised_at),
  ]);
}

export default async function alertsView(ctx) {
  const q = ctx.query;
  const state = {
    days: DAYS.includes(Number(q.get("days"))) ? Number(q.get("days")) : 7,
    status: STATUSES.some(([s]) => s === q.get("status")) ? q.get("status") : "unresolved",
    severity: SEVERITIES.includes(q.get("severity")) ? q.get("severity") : "all",
    alerts: [],
    updated: null,
  };
  const summary = h("p", { class: "summary", role: "status", "aria-live": "polite", "aria-atomic": "true" });
  const updated = h("span", { class: "updated" });
  const list = h("div", { class: "list" });
  const problem = h("p", { class: "error", role: "alert", hidden: true });

  function show() {
    const shown = state.alerts.filter(
      (a) =>
        (state.status === "all" || (state.status === "unresolved" ? UNRESOLVED.has(a.status) : a.status === state.status)) &&
        (state.severity === "all" || a.severity === state.severity),
    );
    const unresolved = state.alerts.filter((a) => UNRESOLVED.has(a.status)).length;
    const text =
      `${unresolved} unresolved of ${state.alerts.length} alert${state.alerts.length === 1 ? "" : "s"} in the last ` +
      `${state.days === 1 ? "day" : `${state.days} days`}; showing ${shown.length}.`;
    // Announced only when it changes, not at every refresh.
    if (summary.textContent !== text) summary.textContent = text;
    updated.textContent = `Updated ${clockTime(state.updated)}`;
    replaceKeepingFocus(
      list,
      shown.length
        ? table("Alerts", ["Alert", "Severity", "Status", "Subject", "Metric / threshold", "Raised"], rows(shown), {
            id: "alerts-table",
          })
        : h("p", { class: "empty" }, "No alerts match these filters."),
    );
  }

  async function load() {
    try {
      const body = await ctx.api.get("/alerts", { query: { days: state.days, limit: LIMIT }, signal: ctx.signal });
      state.alerts = body.alerts;
      state.updated = new Date();
      problem.hidden = true;
      show();
    } catch (err) {
      if (err.name === "AbortError" || ctx.signal.aborted) return;
      if (!state.updated) throw err; // first load: the page shows the error
      problem.textContent = `Could not refresh: ${err.message}`;
      problem.hidden = false;
    }
  }

  function change(key, parse = String) {
    return (event) => {
      state[key] = parse(event.target.value);
      ctx.remember({ days: state.days, status: state.status, severity: state.severity });
      if (key === "days") load();
      else show();
    };
  }

  await load();
  ctx.repeat(REFRESH_MS, load);
  return h(
    "div",
    { class: "page" },
    h("h1", { tabindex: "-1" }, "Alerts"),
    h(
      "form",
      { class: "filters", "aria-label": "Filter alerts", onSubmit: (e) => e.preventDefault() },
      select("f-days", "Raised in the last", DAYS.map((d) => [d, d === 1 ? "day" : `${d} days`]), state.days, change("days", Number)),
      select("f-status", "Status", STATUSES, state.status, change("status")),
      select("f-severity", "Severity", [["all", "All"], ...SEVERITIES.map((s) => [s, s])], state.severity, change("severity")),
      h("button", { type: "button", class: "secondary", onClick: load }, "Refresh"),
    ),
    h("div", { class: "summary-row" }, summary, updated),
    problem,
    list,
    h("p", { class: "hint" }, "Refreshed every 30 seconds. Open an alert to work its case: acknowledge, note, escalate, resolve, snooze, link a writer."),
  );
}
