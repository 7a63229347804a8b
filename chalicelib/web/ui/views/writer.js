// A writer (GET /writers/{id}): totals, slip thumbnails (short-lived presigned GETs, straight from
// the slips bucket), candidate links to confirm or reject, tag to / untag from customers, merge
// another writer in, split slips off; merges and splits are jobs, followed until done.

import { path } from "../api.js";
import { actionForm, badge, field, h, link, replaceKeepingFocus, section, table } from "../dom.js";
import { time, words } from "../format.js";
import { alertsSection, auditSection, idList, optional, subjectAlerts, totals } from "./subject.js";

const THUMBS = 24;
const JOB_POLL_MS = 1_000;
const JOB_WAIT_MS = 60_000;

async function followJob(ctx, job) {
  const deadline = Date.now() + JOB_WAIT_MS;
  while (job.state !== "done" && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, JOB_POLL_MS));
    if (ctx.signal.aborted) return job;
    job = await ctx.api.get(path`/jobs/${job.job_id}`, { signal: ctx.signal });
  }
  return job;
}

function jobMessage(job) {
  const what = job.kind === "merge" ? `Writer ${job.source} merged into ${job.target}` : `${job.bet_ids.length} slips split off into writer ${job.target}`;
  return job.state === "done" ? `${what}: done (${job.moved} slips moved).` : `${what}: still running (${job.moved} of ${job.bet_ids.length} moved).`;
}

function thumbs(ctx, id, slips) {
  if (!slips.length) return h("p", { class: "empty" }, "No slips.");
  const shown = slips.slice(0, THUMBS);
  const items = shown.map((bet) => {
    const img = h("img", { alt: `Slip of bet ${bet}`, loading: "lazy", decoding: "async", width: 160, height: 128 });
    const cell = h(
      "li",
      { class: "thumb" },
      img,
      link(path`#/bets/${bet}`, bet.length > 14 ? `${bet.slice(0, 12)}…` : bet, { "aria-label": `Bet ${bet}`, title: bet }),
      h("label", {}, h("input", { type: "checkbox", name: "bet_ids", value: bet, "aria-label": `Split off the slip of bet ${bet}` }), "split off"),
    );
    ctx.api
      .get(path`/bets/${bet}/slip/image`, { signal: ctx.signal })
      .then((r) => img.setAttribute("src", r.url))
      .catch((err) => {
        if (err.name !== "AbortError") img.replaceWith(h("p", { class: "empty" }, `No image (${err.message})`));
      });
    return cell;
  });
  return [
    h("ul", { class: "thumbs", "aria-label": "Slip images" }, items),
    slips.length > THUMBS ? h("p", { class: "hint" }, `The first ${THUMBS} of ${slips.length} slips.`) : null,
  ];
}

function candidatesTable(ctx, id, candidates, reload) {
  if (candidates == null) return h("p", { class: "error" }, "Could not load the candidate links.");
  if (!candidates.length) return h("p", { class: "empty" }, "No candidate links.");
  const decide = (c, verb) =>
    h(
      "button",
      {
        type: "button",
        class: verb === "confirm" ? null : "secondary",
        "aria-label": `${verb === "confirm" ? "Confirm" : "Reject"}: ${id} and ${c.other} are ${verb === "confirm" ? "the same" : "different"} writer${verb === "confirm" ? "" : "s"}`,
        async onClick(event) {
          event.target.disabled = true;
          try {
            const job = await ctx.api.post(path`/writers/${id}/candidates/${c.other}/${verb}`, undefined, { signal: ctx.signal });
            if (verb === "confirm") {
              await reload(`Confirmed: the same person. ${jobMessage(await followJob(ctx, job))}`, job);
            } else {
              await reload(`Rejected: ${id} and ${c.other} will not be proposed or merged again.`);
            }
          } catch (err) {
            if (err.name === "AbortError") return;
            await reload(`Could not ${verb}: ${err.message}`);
          }
        },
      },
      verb === "confirm" ? "Confirm" : "Reject",
    );
  return table(
    "Candidate links",
    ["Other writer", "Slip", "Score", "Reason", "Status", "Since", "Decision"],
    candidates.map((c) => [
      link(path`#/writers/${c.other}`, c.other, { "data-key": c.other }),
      c.bet_id ? link(path`#/bets/${c.bet_id}`, c.bet_id) : "—",
      c.score.toFixed(2),
      c.reason,
      badge(words(c.status), c.status === "pending" ? "medium" : c.status === "confirmed" ? "status-resolved" : "info"),
      time(c.at),
      c.status === "pending" ? h("span", { class: "row" }, decide(c, "confirm"), " ", decide(c, "reject")) : c.decided_by ? `by ${c.decided_by}` : "—",
    ]),
    { id: "candidates-table" },
  );
}

export default async function writerView(ctx) {
  const id = ctx.params.id;
  const status = h("p", { class: "notice", role: "status", "aria-live": "polite", hidden: true });
  const body = h("div", { class: "subject-body" });

  const load = () =>
    Promise.all([
      ctx.api.get(path`/writers/${id}`, { signal: ctx.signal }),
      subjectAlerts(ctx, "writer", id),
      optional(ctx.api.get(path`/writers/${id}/candidates`, { signal: ctx.signal }).then((b) => b.candidates)),
      optional(ctx.api.get(path`/writers/${id}/audit`, { signal: ctx.signal }).then((b) => b.events)),
    ]);

  async function reload(message, job) {
    try {
      draw(...(await load()));
    } catch (err) {
      if (err.name === "AbortError") return;
      // Merged away (a retired writer is gone): say where its slips went.
      replaceKeepingFocus(body, 
        h("p", {}, `Writer ${id} cannot be shown any more (${err.message}).`),
        job ? h("p", {}, link(path`#/writers/${job.target}`, `Open writer ${job.target}`)) : null,
      );
    }
    status.hidden = false;
    status.textContent = message; // after the page shows the new state
    status.focus();
  }

  function draw(s, alerts, candidates, audit) {
    const untag = (customer) =>
      h(
        "button",
        {
          type: "button",
          class: "secondary",
          "aria-label": `Unlink customer ${customer}`,
          async onClick(event) {
            event.target.disabled = true;
            try {
              await ctx.api.del(path`/writers/${id}/tags/${customer}`, { signal: ctx.signal });
              await reload(`Customer ${customer} unlinked.`);
            } catch (err) {
              await reload(`Could not unlink: ${err.message}`);
            }
          },
        },
        "Unlink",
      );
    const tag = actionForm(
      {
        label: "Tag to a customer",
        act: (f) => ctx.api.post(path`/writers/${id}/tags`, { customer_id: f.elements.customer.value.trim() }, { signal: ctx.signal }),
        done: (r) => reload(`Tagged to customer ${r.customer_id} (${r.bets_copied} bets counted for the customer).`),
      },
      h("h3", {}, "Tag to a customer"),
      field("Customer id", h("input", { id: "tag-customer", name: "customer", required: true, autocomplete: "off", spellcheck: "false" })),
      h("div", { class: "row" }, h("button", { type: "submit" }, "Tag")),
    );
    const merge = actionForm(
      {
        label: "Merge another writer into this one",
        act: async (f) =>
          followJob(
            ctx,
            await ctx.api.post(path`/writers/${id}/merge`, { from_writer_id: f.elements.from.value.trim(), note: f.elements.note.value.trim() || null }, { signal: ctx.signal }),
          ),
        done: (job) => reload(jobMessage(job), job),
      },
      h("h3", {}, "Merge another writer in"),
      h("p", { class: "hint" }, "Its slips join this writer; it is retired."),
      field("Writer to merge into this one", h("input", { id: "merge-from", name: "from", required: true, autocomplete: "off", spellcheck: "false" })),
      field("Note (optional)", h("textarea", { id: "merge-note", name: "note", maxlength: 2000, rows: 2 })),
      h("div", { class: "row" }, h("button", { type: "submit", class: "secondary" }, "Merge")),
    );
    const split = actionForm(
      {
        label: "Split slips off",
        className: "split",
        act: async (f) => {
          const bet_ids = [...body.querySelectorAll("input[name=bet_ids]:checked")].map((x) => x.value);
          if (!bet_ids.length) throw new Error("Tick the slips to split off first (under each thumbnail).");
          const job = await ctx.api.post(path`/writers/${id}/split`, { bet_ids, note: f.elements.note.value.trim() || null }, { signal: ctx.signal });
          return followJob(ctx, job);
        },
        done: (job) => reload(jobMessage(job), job),
      },
      h("h3", {}, "Split slips off"),
      h("p", { class: "hint" }, "Tick the slips by another hand under their thumbnails; they move to a new writer."),
      field("Note (optional)", h("textarea", { id: "split-note", name: "note", maxlength: 2000, rows: 2 })),
      h("div", { class: "row" }, h("button", { type: "submit", class: "secondary" }, "Split off the ticked slips")),
    );
    replaceKeepingFocus(body, 
      h("div", { class: "columns" }, totals(s), section("Linked customers", idList(s.linked, "customers", "None linked yet.", untag)), section("Slips (by bet)", idList(s.slips, "bets", "No slips."))),
      section("Slip images", thumbs(ctx, id, s.slips)),
      section("Candidate links", h("p", { class: "hint" }, "Borderline matches with another writer: confirm (the same person: the writers merge) or reject (never proposed again)."), candidatesTable(ctx, id, candidates, reload)),
      section("Decisions", h("div", { class: "actions" }, tag, merge, split)),
      alertsSection(alerts),
      auditSection(audit),
    );
  }

  draw(...(await load()));
  status.setAttribute("tabindex", "-1");
  return h(
    "div",
    { class: "page" },
    h("h1", { tabindex: "-1" }, `Writer ${id}`),
    h("p", { class: "crumbs" }, link(`#/reports?kind=writer&id=${encodeURIComponent(id)}`, "Writer report")),
    status,
    body,
  );
}
