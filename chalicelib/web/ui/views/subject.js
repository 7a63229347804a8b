// What the customer and writer pages share: the profile's totals and rolling windows, id lists,
// the subject's alerts (GET /alerts by subject) and its audit trail.

import { path } from "../api.js";
import { badge, facts, h, link, section, table } from "../dom.js";
import { money, time, words } from "../format.js";

export function idList(ids, route, empty, extra) {
  if (!ids.length) return h("p", { class: "empty" }, empty);
  return h(
    "ul",
    { class: extra ? "inline-list" : "ids" },
    ids.map((id) => h("li", {}, link(`#/${route}/${encodeURIComponent(id)}`, id), extra ? extra(id) : null)),
  );
}

export function totals(s) {
  const windows = Object.entries(s.windows).map(([label, w]) => [label, String(w.bets), money(w.stake_minor, s.currency)]);
  return section(
    "Totals",
    facts([
      ["Bets", String(s.bets_total)],
      ["Staked", money(s.stake_total_minor, s.currency)],
      ["First bet", time(s.first_bet_at)],
      ["Risk segment", s.segment_name ?? (s.segment != null ? String(s.segment) : null)],
    ]),
    h("h3", {}, "Rolling windows"),
    table("Rolling windows", ["Window", "Bets", "Staked"], windows),
  );
}

/** The subject's alerts of the last 31 days; null when they could not be read (the page stands). */
export async function subjectAlerts(ctx, kind, id) {
  try {
    const body = await ctx.api.get("/alerts", {
      query: { subject_kind: kind, subject_id: id, days: 31, limit: 500 },
      signal: ctx.signal,
    });
    return body.alerts;
  } catch (err) {
    if (err.name === "AbortError") throw err;
    return null;
  }
}

export function alertsSection(alerts) {
  return section(
    "Alerts (last 31 days)",
    alerts == null
      ? h("p", { class: "error" }, "Could not load the alerts.")
      : alerts.length
        ? table(
            "Alerts on this subject",
            ["Alert", "Severity", "Status", "Raised"],
            alerts.map((a) => [
              link(path`#/alerts/${a.alert_id}`, a.title),
              badge(a.severity, a.severity),
              badge(words(a.status), `status-${a.status}`),
              time(a.raised_at),
            ]),
          )
        : h("p", { class: "empty" }, "No alerts."),
  );
}

// Events newest as given: when, what, who, `detail(e)` (what changed), and the note.
export function timeline(events, detail) {
  return h(
    "ol",
    { class: "timeline" },
    events.map((e) =>
      h(
        "li",
        {},
        time(e.at),
        " ",
        h("strong", {}, words(e.action)),
        ` by ${e.actor}`,
        detail(e),
        e.note ? h("p", { class: "note" }, e.note) : null,
      ),
    ),
  );
}

export function auditSection(events) {
  return section(
    "History of staff actions",
    events == null
      ? h("p", { class: "error" }, "Could not load the history.")
      : events.length
        ? timeline(events, (e) => changed(e.before, e.after))
        : h("p", { class: "empty" }, "No staff actions yet."),
  );
}

export async function optional(promise) {
  try {
    return await promise;
  } catch (err) {
    if (err.name === "AbortError") throw err;
    return null;
  }
}

/** What an action changed: the plain fields whose value differs from before (all of them for a first record). */
function changed(before, after) {
  const pairs = Object.entries(after ?? {}).filter(
    ([k, v]) => v != null && typeof v !== "object" && (before ? before[k] !== v : ["category", "reason", "until"].includes(k)),
  );
  return pairs.length ? h("p", { class: "note" }, pairs.slice(0, 5).map(([k, v]) => `${words(k)}: ${v}`).join(" · ")) : null;
}
