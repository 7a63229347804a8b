// A customer (GET /customers/{id}) or a writer (GET /writers/{id}): totals, rolling windows, the
// linked writers or customers, their slips, and the alerts raised on them in the last 31 days.

import { path } from "../api.js";
import { badge, facts, h, link, section, soon, table } from "../dom.js";
import { money, time, words } from "../format.js";

const KINDS = {
  customer: { api: "customers", title: "Customer", linked: "Linked writers", linkedRoute: "writers" },
  writer: { api: "writers", title: "Writer", linked: "Linked customers", linkedRoute: "customers" },
};

function idList(ids, route, empty) {
  if (!ids.length) return h("p", { class: "empty" }, empty);
  return h("ul", { class: "ids" }, ids.map((id) => h("li", {}, link(`#/${route}/${encodeURIComponent(id)}`, id))));
}

export default async function subjectView(ctx) {
  const kind = KINDS[ctx.route.kind];
  const id = ctx.params.id;
  const [s, alerts] = await Promise.all([
    ctx.api.get(`/${kind.api}/${encodeURIComponent(id)}`, { signal: ctx.signal }),
    ctx.api.get("/alerts", { query: { days: 31, limit: 500 }, signal: ctx.signal }).then(
      (body) => body.alerts.filter((a) => a.subject.kind === ctx.route.kind && a.subject.id === id),
      (err) => {
        if (err.name === "AbortError") throw err;
        return null; // the profile stands without them
      },
    ),
  ]);
  const windows = Object.entries(s.windows).map(([label, w]) => [label, String(w.bets), money(w.stake_minor, s.currency)]);
  return h(
    "div",
    { class: "page" },
    h("h1", { tabindex: "-1" }, `${kind.title} ${s.id}`),
    h(
      "div",
      { class: "columns" },
      section(
        "Totals",
        facts([
          ["Bets", String(s.bets_total)],
          ["Staked", money(s.stake_total_minor, s.currency)],
          ["First bet", time(s.first_bet_at)],
        ]),
        h("h3", {}, "Rolling windows"),
        table("Rolling windows", ["Window", "Bets", "Staked"], windows),
      ),
      section(kind.linked, idList(s.linked, kind.linkedRoute, "None linked yet.")),
      section("Slips (by bet)", idList(s.slips, "bets", "No slips.")),
    ),
    section(
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
    ),
    ctx.route.kind === "customer"
      ? section("Categories", soon("the customer's categories (e.g. safer-gambling flags) and their history."))
      : section(
          "Slip images and links",
          soon("slip thumbnails, candidate links to confirm or reject, and tag, merge or split of this writer."),
        ),
  );
}
