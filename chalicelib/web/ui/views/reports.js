// Reports: the daily report (GET /reports/daily?date=) and a customer's or writer's report over a
// period (GET /reports/{customers|writers}/{id}?days=), with their charts drawn in the page from
// the figures; the CSV and the printable HTML page as downloads.

import { path } from "../api.js";
import { barChart } from "../charts.js";
import { badge, choice, download, field, h, link, replaceKeepingFocus, section, table } from "../dom.js";
import { CATEGORY_LABELS, money, time, utcDay, words } from "../format.js";

const KINDS = [
  ["daily", "Daily report"],
  ["customer", "Customer report"],
  ["writer", "Writer report"],
];
const PERIODS = [
  [1, "last day"],
  [7, "last 7 days"],
  [14, "last 14 days"],
  [30, "last 30 days"],
];

function kpi(label, value, compare) {
  return h("div", { class: "kpi" }, h("span", { class: "kpi-value" }, value), h("span", { class: "kpi-label" }, label), compare ? h("span", { class: "kpi-compare" }, compare) : null);
}

function kpis(t, currency, avg = {}) {
  const cmp = (f) =>
    [avg.week ? `this week's avg ${f(avg.week)}` : null, avg.last ? `last week's ${f(avg.last)}` : null].filter(Boolean).join(" · ") || null;
  return h(
    "div",
    { class: "kpis", role: "group", "aria-label": "Key figures" },
    kpi("Bets", String(t.bets), cmp((x) => String(x.bets))),
    kpi("Knockbacks", String(t.knockbacks), cmp((x) => String(x.knockbacks))),
    kpi("Knockback %", `${t.kb_pct}%`, cmp((x) => `${x.kb_pct}%`)),
    kpi("Staked", money(t.stake_minor, currency), cmp((x) => money(x.stake_minor, currency))),
    kpi("Average stake", money(t.avg_stake_minor, currency), cmp((x) => money(x.avg_stake_minor, currency))),
    kpi("SMS requests", String(t.sms_requests)),
    kpi("Settled P/L (customers' side)", money(t.profit_minor, currency), `${t.settled_bets} settled bets`),
  );
}

const HOURS = Array.from({ length: 24 }, (_, i) => String(i).padStart(2, "0"));

function countCharts(r, currency) {
  const stake = (v) => money(v, currency);
  const of = (title, counts, id) =>
    counts.length
      ? barChart({ title, id, labels: counts.map((c) => words(c.key)), series: [{ name: "staked", values: counts.map((c) => c.stake_minor) }], format: stake })
      : null;
  return [
    barChart({ title: "Bets per hour (UTC)", id: "chart-hours", labels: HOURS, series: [{ name: "bets", values: r.bets_per_hour }] }),
    of("Staked by sport", r.by_sport, "chart-sport"),
    of("Staked by channel", r.by_channel, "chart-channel"),
    of("Staked by shop", r.by_shop.slice(0, 20), "chart-shop"),
  ];
}

function topTable(title, counts, route, currency) {
  return section(
    title,
    counts.length
      ? table(title, ["Who", "Bets", "Staked", "Knockbacks"], counts.map((c) => [c.key === "(none)" ? c.key : link(`#/${route}/${encodeURIComponent(c.key)}`, c.key), String(c.bets), money(c.stake_minor, currency), String(c.knockbacks)]))
      : h("p", { class: "empty" }, "None."),
  );
}

async function daily(ctx, day) {
  const r = await ctx.api.get("/reports/daily", { query: { date: day }, signal: ctx.signal });
  const c = r.currency;
  const alerts = r.alerts_by_rule;
  return [
    h("p", { class: "detail" }, `${r.date} (UTC), generated `, time(r.generated_at)),
    kpis(r.totals, c, { week: r.this_week_daily_avg, last: r.last_week_daily_avg }),
    h("div", { class: "charts" }, countCharts(r, c), alerts.length ? barChart({ title: "Alerts by rule", id: "chart-alerts", labels: alerts.map((a) => a.rule_id), series: [{ name: "raised", values: alerts.map((a) => a.raised) }, { name: "resolved", values: alerts.map((a) => a.resolved), cls: "bar-alt" }] }) : null),
    section(
      "Unique clients by category",
      Object.keys(r.clients_by_category).length
        ? table("Unique clients by category", ["Category", "Clients"], Object.entries(r.clients_by_category).map(([k, n]) => [CATEGORY_LABELS[k] ?? words(k), String(n)]))
        : h("p", { class: "empty" }, "No account customers this day."),
    ),
    h(
      "div",
      { class: "columns" },
      topTable("Top customers by stake", r.top_customers_by_stake, "customers", c),
      topTable("Top customers by bets", r.top_customers_by_count, "customers", c),
      topTable("Top customers by knockbacks", r.top_customers_by_knockbacks, "customers", c),
      topTable("Top writers by stake", r.top_writers_by_stake, "writers", c),
      topTable("Top writers by bets", r.top_writers_by_count, "writers", c),
    ),
  ];
}

async function subject(ctx, kind, id, days) {
  const route = kind === "writer" ? "writers" : "customers";
  const r = await ctx.api.get(`/reports/${route}/${encodeURIComponent(id)}`, { query: { days }, signal: ctx.signal });
  const c = r.currency;
  const perDay = Object.entries(r.bets_per_day);
  return [
    h("p", { class: "detail" }, link(`#/${route}/${encodeURIComponent(id)}`, `${words(kind)} ${id}`), ": ", time(r.since), " – ", time(r.until), r.category && r.category !== "none" ? [" · ", badge(CATEGORY_LABELS[r.category] ?? r.category, `cat-${r.category}`)] : null),
    kpis(r.totals, c),
    h("div", { class: "charts" }, perDay.length ? barChart({ title: "Bets per day", id: "chart-days", labels: perDay.map(([d]) => d.slice(5)), series: [{ name: "bets", values: perDay.map(([, n]) => n) }] }) : null, countCharts(r, c)),
    h(
      "div",
      { class: "columns" },
      section(kind === "writer" ? "Linked customers" : "Linked writers", r.linked.length ? h("ul", { class: "ids" }, r.linked.map((x) => h("li", {}, link(`#/${kind === "writer" ? "customers" : "writers"}/${encodeURIComponent(x)}`, x)))) : h("p", { class: "empty" }, "None.")),
      section("Alerts", r.alerts.length ? table("Alerts", ["Alert", "Rule", "Severity", "Status"], r.alerts.map((a) => [link(path`#/alerts/${a.alert_id}`, a.alert_id), a.rule_id, badge(a.severity, a.severity), badge(words(a.status), `status-${a.status}`)])) : h("p", { class: "empty" }, "No alerts in the period.")),
      section("Slips", r.slips.length ? h("ul", { class: "ids" }, r.slips.map((b) => h("li", {}, link(path`#/bets/${b}`, b)))) : h("p", { class: "empty" }, "No slips.")),
    ),
  ];
}

export default async function reportsView(ctx) {
  const q = ctx.query;
  const state = {
    kind: KINDS.some(([k]) => k === q.get("kind")) ? q.get("kind") : "daily",
    date: /^\d{4}-\d{2}-\d{2}$/.test(q.get("date") ?? "") ? q.get("date") : utcDay(),
    id: q.get("id") ?? "",
    days: PERIODS.some(([d]) => String(d) === q.get("days")) ? Number(q.get("days")) : 30,
  };
  const region = h("div", { class: "report", "aria-live": "polite", "aria-busy": "false" });
  const problem = h("p", { class: "error", role: "alert", hidden: true });
  const kind = choice("r-kind", KINDS, state.kind);
  const date = h("input", { id: "r-date", type: "date", value: state.date, max: utcDay(), required: true });
  const who = h("input", { id: "r-id", value: state.id, autocomplete: "off", spellcheck: "false", placeholder: "e.g. C123" });
  const days = choice("r-days", PERIODS, state.days);
  const dailyFields = h("div", { class: "filters" }, field("Day (UTC)", date));
  const subjectFields = h("div", { class: "filters" }, field("Id", who), field("Period", days));
  const csv = h("button", { type: "button", class: "secondary", onClick: () => save("csv") }, "Download CSV");
  const html = h("button", { type: "button", class: "secondary", onClick: () => save("html") }, "Download printable page (HTML)");

  function sync() {
    const isDaily = kind.value === "daily";
    dailyFields.hidden = !isDaily;
    subjectFields.hidden = isDaily;
    csv.hidden = !isDaily;
    who.required = !isDaily;
  }

  async function show() {
    problem.hidden = true;
    state.kind = kind.value;
    state.date = date.value;
    state.id = who.value.trim();
    state.days = Number(days.value);
    ctx.remember(state.kind === "daily" ? { kind: "daily", date: state.date } : { kind: state.kind, id: state.id, days: state.days });
    if (state.kind !== "daily" && !state.id) {
      replaceKeepingFocus(region, h("p", { class: "empty" }, `Enter a ${state.kind} id to see their report.`));
      return;
    }
    region.setAttribute("aria-busy", "true");
    try {
      replaceKeepingFocus(region, ...(state.kind === "daily" ? await daily(ctx, state.date) : await subject(ctx, state.kind, state.id, state.days)));
    } catch (err) {
      if (err.name === "AbortError") return;
      replaceKeepingFocus(region);
      problem.textContent = err.status === 404 ? `No ${state.kind} ${state.id}.` : `Could not load the report: ${err.message}`;
      problem.hidden = false;
    } finally {
      region.setAttribute("aria-busy", "false");
    }
  }

  async function save(format) {
    problem.hidden = true;
    try {
      if (state.kind === "daily") {
        const text = await ctx.api.text(path`/reports/daily/${state.date}/${format}`, { signal: ctx.signal });
        download(`betwatch-daily-${state.date}.${format}`, text, format === "csv" ? "text/csv" : "text/html");
      } else {
        const route = state.kind === "writer" ? "writers" : "customers";
        const text = await ctx.api.text(`/reports/${route}/${encodeURIComponent(state.id)}/html`, { query: { days: state.days }, signal: ctx.signal });
        download(`betwatch-${state.kind}-${state.id}.html`, text, "text/html");
      }
    } catch (err) {
      if (err.name === "AbortError") return;
      problem.textContent = `Could not download: ${err.message}`;
      problem.hidden = false;
    }
  }

  kind.addEventListener("change", sync);
  sync();
  await show();
  return h(
    "div",
    { class: "page" },
    h("h1", { tabindex: "-1" }, "Reports"),
    h(
      "form",
      {
        class: "filters",
        "aria-label": "Choose a report",
        onSubmit(event) {
          event.preventDefault();
          show();
        },
      },
      field("Report", kind),
      dailyFields,
      subjectFields,
      h("div", { class: "filter-buttons" }, h("button", { type: "submit" }, "Show"), csv, html),
    ),
    problem,
    region,
  );
}
