// The live feed (GET /feed) and the risk feed (GET /feed/risk): the 150 newest bets, knockbacks
// and SMS requests (each row says which; a knockback shows why it was refused and the stake offered,
// an SMS request its text and whether it is open for staff), filtered; new rows arrive by polling
// with the since-cursor every 5 s (an empty page has one too; paused on request, or while the tab
// is hidden) and are announced politely; "Load older" pages back by cursor.

import { path } from "../api.js";
import { badge, choice, field, h, link, replaceKeepingFocus, table } from "../dom.js";
import { CATEGORIES, CATEGORY_LABELS, clockTime, money, RISK_LEVELS, shortTime, words } from "../format.js";

export const PAGE = 150;
const REFRESH_MS = 5_000;
const HOURS = [1, 3, 6, 12, 24, 48, 72, 168];
// The text filters, as the API names them.
const TEXT = [
  ["customer_id", "Customer", "e.g. C123"],
  ["writer_id", "Writer", "e.g. w-…"],
  ["shop_id", "Shop", "e.g. S01"],
  ["selection", "Selection", "part of a name"],
  ["sport", "Sport", "e.g. horse_racing"],
  ["min_stake", "Min stake (£)", "e.g. 50"],
];
const SELECTS = {
  channel: ["Channel", [["", "Any"], ["retail", "retail"], ["online", "online"], ["sms", "SMS"]]],
  risk_level: ["Risk level", [["", "Any"], ...RISK_LEVELS.map((l) => [l, l]), ["high,critical", "high or critical"]]],
  category: ["Client category", [["", "Any"], ...CATEGORIES.map((c) => [c, CATEGORY_LABELS[c]])]],
  record_type: ["Record", [["", "Any"], ["bet", "bets"], ["knockback", "knockbacks"], ["sms", "SMS requests"]]],
  hours: ["Time range", HOURS.map((n) => [n, n < 24 ? `last ${n} h` : `last ${n / 24} day${n === 24 ? "" : "s"}`])],
};
const NAMES = [...TEXT.map(([k]) => k), ...Object.keys(SELECTS)];

export function categoryBadge(category) {
  if (!category || category === "none") return null;
  return badge(CATEGORY_LABELS[category] ?? words(category), `cat-${category}`);
}

export function riskBadge(level, score) {
  if (!level) return "—";
  return badge(`${level}${score != null ? ` ${score}` : ""}`, level === "low" ? "info" : level);
}

const RECORD_LABELS = { bet: "bet", knockback: "knockback", sms: "SMS" };
// A knockback's and an SMS request's status, in words (the API's vocabulary) and a colour.
const STATUS = {
  knockback: { liability_exceeded: ["liability exceeded", "high"], refused: ["refused", "medium"] },
  sms: { open: ["open: staff to read", "status-open"], recorded: ["recorded as a bet", "status-resolved"], closed: ["closed", "off"] },
};
const DETAIL_CHARS = 90;

function recordCell(r) {
  const kind = badge(RECORD_LABELS[r.record_type] ?? words(r.record_type), `rec-${r.record_type}`);
  // Ids are long: the first characters shown, the whole id as the link's name and tooltip.
  const text = r.record_id.length > 12 ? `${r.record_id.slice(0, 10)}…` : r.record_id;
  const props = { "data-key": r.record_id, "aria-label": r.record_id, title: r.record_id, class: "record-id" };
  let id;
  if (r.record_type === "bet" || (r.record_type === "sms" && r.status === "recorded")) {
    id = link(path`#/bets/${r.record_id}`, text, props); // a recorded SMS is the bet of its wager number
  } else if (r.record_type === "sms" && r.status === "open") {
    id = link("#/sms", text, props);
  } else {
    id = h("span", props, text);
  }
  return [kind, " ", id];
}

/** What a knockback or an SMS request adds to its row: why it was refused and what was offered, or the text. */
export function recordDetail(r) {
  if (r.record_type === "bet") return null;
  const [label, cls] = STATUS[r.record_type]?.[r.status] ?? [words(r.status ?? ""), "info"];
  const text = r.detail ?? "";
  const short = text.length > DETAIL_CHARS ? `${text.slice(0, DETAIL_CHARS - 1)}…` : text;
  return h(
    "span",
    { class: "record-detail" },
    r.status ? badge(label, cls) : null,
    " ",
    h("span", { class: "detail-text", title: text }, r.record_type === "sms" ? `“${short.replace(/\s+/g, " ")}”` : short),
    r.offered_minor != null ? h("span", { class: "offered" }, ` · max ${money(r.offered_minor)} offered`) : null,
  );
}

function row(r, fresh) {
  return {
    cls: `feed-row cat-row-${r.category}${fresh ? " fresh" : ""}`,
    cells: [
      [shortTime(r.recorded_at), fresh ? [" ", badge("new", "new")] : null],
      recordCell(r),
      r.customer_id
        ? [link(path`#/customers/${r.customer_id}`, r.customer_id), " ", categoryBadge(r.category)]
        : h("span", { class: "muted" }, "anonymous"),
      r.writer_id ? link(path`#/writers/${r.writer_id}`, r.writer_id) : "—",
      [r.shop_id ?? "online", h("br"), h("span", { class: "muted" }, words(r.channel ?? "—"))],
      h("span", { class: "num" }, r.stake_minor != null ? money(r.stake_minor) : "—"),
      [
        r.selections.length ? r.selections.join("; ") : "—",
        h("br"),
        h("span", { class: "muted" }, words(r.sport ?? "")),
        recordDetail(r) ? [h("br"), recordDetail(r)] : null,
      ],
      riskBadge(r.risk_level, r.risk_score),
    ],
  };
}

function filtersFrom(query) {
  const f = {};
  for (const k of NAMES) {
    const v = query.get(k)?.trim();
    if (v) f[k] = v;
  }
  if (!HOURS.includes(Number(f.hours))) f.hours = "24";
  return f;
}

export default async function feedView(ctx) {
  const risk = ctx.route.kind === "risk";
  const endpoint = risk ? "/feed/risk" : "/feed";
  const title = risk ? "Risk feed" : "Live feed";
  const state = { filters: filtersFrom(ctx.query), rows: [], cap: PAGE, next: null, since: null, fresh: new Set(), updated: null };
  const summary = h("p", { class: "summary", role: "status", "aria-live": "polite", "aria-atomic": "true" });
  const updated = h("span", { class: "updated" });
  const problem = h("p", { class: "error", role: "alert", hidden: true });
  const list = h("div", { class: "list" });
  const more = h("button", { type: "button", class: "secondary", onClick: older }, "Load older");
  const auto = h("input", { id: "feed-auto", type: "checkbox", checked: true });
  let announced = "";

  function say(text) {
    if (text !== announced) summary.textContent = announced = text;
  }

  function show() {
    replaceKeepingFocus(
      list,
      state.rows.length
        ? rowsTable(state.rows, state.fresh, title)
        : h("p", { class: "empty" }, "No records match these filters in this time range."),
    );
    updated.textContent = state.updated ? `Updated ${clockTime(state.updated)}` : "";
    more.hidden = !state.next;
  }

  const query = (extra) => ({ ...state.filters, limit: PAGE, ...extra });

  async function first() {
    const body = await ctx.api.get(endpoint, { query: query(), signal: ctx.signal });
    state.rows = body.rows;
    state.cap = PAGE;
    state.next = body.next_cursor;
    state.since = body.since;
    state.fresh = new Set();
    state.updated = new Date();
    say(`${body.rows.length} record${body.rows.length === 1 ? "" : "s"} shown, newest first.`);
    show();
  }

  async function poll() {
    if (!auto.checked) return;
    try {
      // Every first page has a since-cursor, an empty one too ("read up to now"): a poll reads only
      // what arrived since the last one, however long the filters have matched nothing.
      if (!state.since) return await first();
      const body = await ctx.api.get(endpoint, { query: query({ since: state.since }), signal: ctx.signal });
      state.since = body.since ?? state.since;
      state.updated = new Date();
      problem.hidden = true;
      if (body.rows.length) {
        const newest = [...body.rows].reverse(); // polling answers oldest first
        state.fresh = new Set(newest.map((r) => r.cursor));
        state.rows = [...newest, ...state.rows];
        if (state.rows.length > state.cap) {
          state.rows = state.rows.slice(0, state.cap); // the cap newest; older ones by "Load older"
          state.next = state.rows[state.rows.length - 1].cursor;
        }
        say(`${body.rows.length} new record${body.rows.length === 1 ? "" : "s"} at ${clockTime(state.updated)}.`);
      }
      show();
    } catch (err) {
      if (err.name === "AbortError" || ctx.signal.aborted) return;
      problem.textContent = `Could not refresh: ${err.message}`;
      problem.hidden = false;
    }
  }

  async function older() {
    more.disabled = true;
    try {
      const body = await ctx.api.get(endpoint, { query: query({ cursor: state.next }), signal: ctx.signal });
      state.rows = [...state.rows, ...body.rows];
      state.cap = state.rows.length;
      state.next = body.next_cursor;
      state.fresh = new Set();
      say(`${body.rows.length} older record${body.rows.length === 1 ? "" : "s"} added; ${state.rows.length} shown.`);
      show();
    } catch (err) {
      if (err.name === "AbortError") return;
      problem.textContent = `Could not load older records: ${err.message}`;
      problem.hidden = false;
    } finally {
      more.disabled = false;
    }
  }

  const controls = {};
  for (const [k, label, placeholder] of TEXT) {
    controls[k] = h("input", {
      id: `f-${k}`,
      name: k,
      value: state.filters[k] ?? "",
      placeholder,
      autocomplete: "off",
      spellcheck: "false",
      inputmode: k === "min_stake" ? "decimal" : null,
    });
  }
  for (const [k, [, options]] of Object.entries(SELECTS)) controls[k] = choice(`f-${k}`, options, state.filters[k]);

  async function apply(event) {
    event?.preventDefault();
    const f = {};
    for (const k of NAMES) if (controls[k].value.trim()) f[k] = controls[k].value.trim();
    state.filters = f;
    ctx.remember(f);
    problem.hidden = true;
    try {
      await first();
    } catch (err) {
      if (err.name === "AbortError") return;
      problem.textContent = err.status === 400 ? `Check the filters: ${detail(err)}` : `Could not load: ${err.message}`;
      problem.hidden = false;
    }
  }

  function clear() {
    for (const k of NAMES) controls[k].value = k === "hours" ? "24" : "";
    apply();
  }

  await first();
  ctx.repeat(REFRESH_MS, poll);
  return h(
    "div",
    { class: "page feed-page" },
    h("h1", { tabindex: "-1" }, title),
    risk ? h("p", { class: "detail" }, "Bets scored high or critical, and every bet of a watch-listed, stake-restricted or self-excluded customer.") : null,
    h(
      "form",
      { class: "filters feed-filters", "aria-label": `Filter the ${title.toLowerCase()}`, onSubmit: apply },
      TEXT.map(([k, label]) => field(label, controls[k])),
      Object.entries(SELECTS).map(([k, [label]]) => field(label, controls[k])),
      h("div", { class: "filter-buttons" }, h("button", { type: "submit" }, "Apply"), h("button", { type: "button", class: "secondary", onClick: clear }, "Clear")),
    ),
    h(
      "div",
      { class: "summary-row" },
      summary,
      updated,
      h("span", { class: "auto" }, auto, h("label", { for: "feed-auto" }, "Refresh every 5 s")),
    ),
    problem,
    legend(),
    list,
    h("p", {}, more),
  );
}

function detail(err) {
  return err.details?.length ? err.details.map((d) => `${d.field}: ${d.message}`).join("; ") : err.message;
}

function rowsTable(rows, fresh, title) {
  const t = table(
    title,
    ["Recorded", "Record", "Customer", "Writer", "Shop, channel", "Stake", "Selections, sport", "Risk"],
    [],
    { id: "feed-table", class: "grid feed" },
  );
  const body = t.querySelector("tbody");
  for (const r of rows) {
    const { cls, cells } = row(r, fresh.has(r.cursor));
    body.append(h("tr", { class: cls, "data-cursor": r.cursor }, cells.map((c) => h("td", {}, c))));
  }
  return t;
}

function legend() {
  return h(
    "p",
    { class: "legend", "aria-label": "Row colours by client category" },
    "Row colour by client category: ",
    CATEGORIES.filter((c) => c !== "none").map((c) => [categoryBadge(c), " "]),
  );
}
