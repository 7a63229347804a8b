// SMS requests open for staff (GET /sms-requests, oldest first): texts the bet files brought that
// were not a bet in a common form. Each can be closed with what staff did about it
// (POST /sms-requests/{wager}/close, a note and the bet placed for it, if any); refreshed every 30 s.

import { path } from "../api.js";
import { actionForm, h, link, replaceKeepingFocus, table } from "../dom.js";
import { clockTime, time } from "../format.js";

const LIMIT = 100;
const REFRESH_MS = 30_000;

function closeForm(ctx, r, reload) {
  const id = (name) => `sms-${name}-${r.wager_number}`;
  return actionForm(
    {
      label: `Close SMS request ${r.wager_number}`,
      className: "sms-close",
      act: (f) =>
        ctx.api.post(path`/sms-requests/${r.wager_number}/close`, {
          note: f.elements.note.value.trim(),
          bet_id: f.elements.bet_id.value.trim() || null,
        }),
      success: () => `Closed ${r.wager_number}.`,
      done: () => setTimeout(reload, 1_500), // the outcome stays readable a moment before the row goes
    },
    h("label", { for: id("note") }, "What was done"),
    h("input", { id: id("note"), name: "note", required: true, minlength: 3, maxlength: 1000, autocomplete: "off" }),
    h("label", { for: id("bet") }, "Bet placed (id, optional)"),
    h("input", { id: id("bet"), name: "bet_id", autocomplete: "off", spellcheck: "false" }),
    h("button", { type: "submit" }, "Close"),
  );
}

export default async function smsView(ctx) {
  const state = { requests: [], next: null, updated: null };
  const summary = h("p", { class: "summary", role: "status", "aria-live": "polite", "aria-atomic": "true" });
  const updated = h("span", { class: "updated" });
  const list = h("div", { class: "list" });
  const problem = h("p", { class: "error", role: "alert", hidden: true });

  async function load() {
    const body = await ctx.api.get("/sms-requests", { query: { limit: LIMIT }, signal: ctx.signal });
    state.requests = body.requests;
    state.next = body.next_cursor;
    state.updated = new Date();
    const n = body.requests.length;
    summary.textContent = n
      ? `${n}${state.next ? "+" : ""} open SMS request${n === 1 ? "" : "s"}, oldest first.`
      : "No SMS requests are open.";
    updated.textContent = `Updated ${clockTime(state.updated)}`;
    replaceKeepingFocus(list, render());
  }

  async function reload() {
    try {
      await load();
      problem.hidden = true;
    } catch (err) {
      if (err.name === "AbortError" || ctx.signal.aborted) return;
      problem.textContent = `Could not refresh: ${err.message}`;
      problem.hidden = false;
    }
  }

  function render() {
    if (!state.requests.length) return h("p", { class: "empty" }, "Nothing to read: every SMS wager was a bet.");
    return table(
      "Open SMS requests",
      ["Received", "Wager", "Customer", "Mobile", "Text", "Why it is here", "Close"],
      state.requests.map((r) => [
        time(r.received_at),
        h("span", { "data-key": r.wager_number }, r.wager_number),
        link(path`#/customers/${r.customer_id}`, r.customer_id),
        r.mobile,
        h("span", { class: "sms-text" }, r.text),
        r.problem ?? "—",
        closeForm(ctx, r, reload),
      ]),
      { id: "sms-table", class: "grid" },
    );
  }

  // Not while a close form is being filled in: a refresh would wipe what was typed.
  const busy = () => [...list.querySelectorAll("input")].some((i) => i.value || i === document.activeElement);
  await load();
  ctx.repeat(REFRESH_MS, () => (busy() ? null : reload()));
  return h(
    "div",
    { class: "page" },
    h("h1", { tabindex: "-1" }, "SMS requests"),
    h("p", { class: "detail" }, "Texted wagers that were not a bet in a common form: read them, deal with them, close them."),
    h("div", { class: "summary-row" }, summary, updated),
    problem,
    list,
  );
}
