// Display formats for staff: money from integer minor units, times in the browser's zone (UTC on hover).

export const DEFAULT_CURRENCY = "GBP"; // alerts carry amounts without a currency (the deployment's)

const moneyFormats = new Map();

export function money(minor, currency = DEFAULT_CURRENCY) {
  if (minor == null) return "—";
  if (!moneyFormats.has(currency)) {
    moneyFormats.set(currency, new Intl.NumberFormat("en-GB", { style: "currency", currency }));
  }
  const f = moneyFormats.get(currency);
  return f.format(minor / 10 ** f.resolvedOptions().maximumFractionDigits);
}

const dateTime = new Intl.DateTimeFormat("en-GB", { dateStyle: "medium", timeStyle: "medium" });
const clock = new Intl.DateTimeFormat("en-GB", { timeStyle: "medium" });

/** A <time> element: local date and time, the exact UTC instant as its title. */
export function time(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  const el = document.createElement("time");
  el.dateTime = d.toISOString();
  el.title = d.toISOString();
  el.textContent = dateTime.format(d);
  return el;
}

export function clockTime(d = new Date()) {
  return clock.format(d);
}

/** A metric's value in its unit: minor units as money, a ratio as a percentage, else the number. */
export function metricValue(value, unit, currency) {
  if (unit === "minor_units") return money(value, currency);
  if (unit === "ratio") return `${Math.round(value * 100)}%`;
  return `${value} ${unit}`;
}

export function percent(x) {
  return x == null ? "—" : `${Math.round(x * 100)}%`;
}

export function words(s) {
  return String(s ?? "").replaceAll("_", " ");
}

export const SEVERITIES = ["critical", "high", "medium", "info"];
export const UNRESOLVED = new Set(["open", "acknowledged", "escalated"]);

export const CATEGORIES = ["none", "watchlist", "restricted_stake", "price_only", "vip", "new_registration", "self_excluded"];
export const CATEGORY_LABELS = {
  none: "no category",
  watchlist: "watchlist",
  restricted_stake: "restricted stake",
  price_only: "price only (no offers)",
  vip: "VIP",
  new_registration: "new registration",
  self_excluded: "self-excluded",
};
export const RISK_LEVELS = ["low", "medium", "high", "critical"];
export const OUTCOMES = [
  ["confirmed_risk", "Confirmed risk"],
  ["false_positive", "False positive"],
  ["no_action", "No action needed"],
];

const short = new Intl.DateTimeFormat("en-GB", { day: "2-digit", month: "short", hour: "2-digit", minute: "2-digit", second: "2-digit" });

/** A compact <time> for dense tables (feed rows). */
export function shortTime(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  const el = document.createElement("time");
  el.dateTime = d.toISOString();
  el.title = d.toISOString();
  el.textContent = short.format(d);
  return el;
}

/** Today's date (UTC) as YYYY-MM-DD. */
export function utcDay(d = new Date()) {
  return d.toISOString().slice(0, 10);
}
