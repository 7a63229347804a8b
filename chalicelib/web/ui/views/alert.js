// One alert (GET /alerts/{id}): rule and version, subject, the metric against its threshold, the
// evidence (bets, slips, shops) and the events timeline. Case actions arrive with their API.

import { path } from "../api.js";
import { badge, facts, h, link, section, soon } from "../dom.js";
import { metricValue, money, time, words } from "../format.js";
import { subjectLink } from "./alerts.js";

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

function timeline(events) {
  if (!events.length) return h("p", { class: "empty" }, "No events yet.");
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
        e.status ? [" — now ", badge(words(e.status), `status-${e.status}`)] : null,
        e.note ? h("p", { class: "note" }, e.note) : null,
      ),
    ),
  );
}

export default async function alertView(ctx) {
  const a = await ctx.api.get(path`/alerts/${ctx.params.id}`, { signal: ctx.signal });
  const subjectRoute = a.subject.kind === "writer" ? path`/writers/${a.subject.id}` : path`/customers/${a.subject.id}`;
  // The subject's own figures, for context (and the deployment's currency); the page stands without them.
  const subject = await ctx.api.get(subjectRoute, { signal: ctx.signal }).catch((err) => {
    if (err.name === "AbortError") throw err;
    return null;
  });
  const currency = subject?.currency;
  const e = a.evidence;
  return h(
    "div",
    { class: "page" },
    h("p", { class: "crumbs" }, link("#/alerts", "← Alerts")),
    h("h1", { tabindex: "-1" }, a.title),
    h("p", { class: "badges" }, badge(a.severity, a.severity), " ", badge(words(a.status), `status-${a.status}`)),
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
    section("Events", timeline(a.events)),
    section("Case", soon("acknowledge, add a note, resolve, escalate or snooze this alert, once the case workflow API is in.")),
  );
}
