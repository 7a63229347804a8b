// One bet (GET /bets/{id}): what was staked on what, its risk (score, level, signals,
// recommendation) and its slip (GET /bets/{id}/slip) with the writer it was linked to.

import { path } from "../api.js";
import { badge, facts, h, link, section, table } from "../dom.js";
import { money, percent, time, words } from "../format.js";

function risk(r) {
  return h(
    "div",
    { class: "risk" },
    h(
      "p",
      { class: "score" },
      h("span", { class: "score-value" }, String(r.score)),
      h("span", { class: "score-max" }, " / 100 "),
      badge(r.level, r.level === "low" ? "info" : r.level),
    ),
    h("meter", { min: 0, max: 100, low: 40, high: 70, optimum: 0, value: r.score, "aria-label": `Risk score ${r.score} of 100` }),
    facts([
      ["Recommendation", words(r.recommendation)],
      ["Model", r.model_version],
    ]),
    r.signals.length
      ? h("ul", { class: "signals", "aria-label": "Signals" }, r.signals.map((s) => h("li", {}, words(s))))
      : h("p", { class: "empty" }, "No risk signals."),
  );
}

function slip(s) {
  if (!s) return h("p", { class: "empty" }, "No slip was uploaded for this bet.");
  return facts([
    ["Status", badge(words(s.status), `slip-${s.status}`)],
    ["Reason", s.reason],
    ["Writer", s.writer_id ? link(path`#/writers/${s.writer_id}`, s.writer_id) : null],
    ["Similarity", s.similarity != null ? percent(s.similarity) : null],
    ["Updated", time(s.updated_at)],
  ]);
}

export default async function betView(ctx) {
  const id = ctx.params.id;
  const [bet, slipStatus] = await Promise.all([
    ctx.api.get(path`/bets/${id}`, { signal: ctx.signal }),
    ctx.api.get(path`/bets/${id}/slip`, { signal: ctx.signal }).catch((err) => {
      if (err.status === 404) return null; // no slip for this bet
      throw err;
    }),
  ]);
  const c = bet.currency;
  return h(
    "div",
    { class: "page" },
    h("h1", { tabindex: "-1" }, `Bet ${bet.bet_id}`),
    h(
      "div",
      { class: "columns" },
      section(
        "Bet",
        facts([
          ["Stake", money(bet.stake_minor, c)],
          ["Potential return", bet.potential_return_minor != null ? money(bet.potential_return_minor, c) : "— (starting price)"],
          ["Type", `${words(bet.bet_type)}${bet.each_way ? ", each way" : ""} (${bet.lines} line${bet.lines === 1 ? "" : "s"})`],
          ["Sport", words(bet.sport)],
          ["Channel", words(bet.channel)],
          ["Shop", bet.shop_id],
          ["Customer", bet.customer_id ? link(path`#/customers/${bet.customer_id}`, bet.customer_id) : "anonymous"],
          ["Placed", time(bet.placed_at)],
          ["Received", time(bet.received_at)],
          ["Device", bet.device_id],
          ["Recorded by", bet.ingested_by],
        ]),
      ),
      section("Risk", risk(bet.risk)),
      section("Slip", slip(slipStatus)),
    ),
    section(
      "Selections",
      table(
        "Selections",
        ["Event", "Market", "Selection", "Price", "Decimal odds"],
        bet.selections.map((s) => [s.event, s.market, s.selection, s.price, s.decimal_odds ?? "—"]),
      ),
    ),
  );
}
