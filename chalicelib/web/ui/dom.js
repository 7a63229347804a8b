// Building DOM without HTML strings: every text from the API goes in as a text node, so nothing it
// holds can become markup (no module parses HTML from a string; tests/unit/test_web.py checks).

/**
 * h("a", {href: "#/x", class: "link", onClick: fn}, "text", child, [more]) -> HTMLElement.
 * null, undefined and false props and children are skipped; other children become text nodes.
 */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value == null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (key === "class") {
      el.className = value;
    } else if (key === "value" || key === "checked" || key === "selected") {
      el[key] = value; // the live state, not just the initial attribute
    } else {
      el.setAttribute(key, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Replace a region's content, keeping keyboard focus on the "same" element (by data-key) if it had it. */
export function replaceKeepingFocus(region, ...children) {
  const focused = region.contains(document.activeElement) ? document.activeElement : null;
  const key = focused?.dataset?.key;
  region.replaceChildren();
  append(region, children);
  if (key) {
    const again = [...region.querySelectorAll("[data-key]")].find((el) => el.dataset.key === key);
    again?.focus();
  }
}

/** A definition list from [term, value] pairs; pairs whose value is null are left out. */
export function facts(pairs, props) {
  return h(
    "dl",
    { class: "facts", ...props },
    pairs.filter(([, v]) => v != null && v !== "").map(([term, value]) => h("div", {}, h("dt", {}, term), h("dd", {}, value))),
  );
}

/** A table with a caption; rows are arrays of cells (nodes or text). Up/Down move between row links. */
export function table(caption, headers, rows, props) {
  const t = h(
    "table",
    { class: "grid", ...props },
    h("caption", {}, caption),
    h("thead", {}, h("tr", {}, headers.map((x) => h("th", { scope: "col" }, x)))),
    h("tbody", {}, rows.map((cells) => h("tr", {}, cells.map((c) => h("td", {}, c))))),
  );
  t.addEventListener("keydown", rowKeys);
  return h("div", { class: "table-wrap" }, t);
}

function rowKeys(event) {
  if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
  const row = event.target.closest("tr");
  const target = event.key === "ArrowDown" ? row?.nextElementSibling : row?.previousElementSibling;
  const link = target?.querySelector("a, button");
  if (link) {
    event.preventDefault();
    link.focus();
  }
}

export function link(href, text, props) {
  return h("a", { href, ...props }, text);
}

export function badge(text, kind) {
  return h("span", { class: `badge badge-${kind}` }, text);
}

/** "Coming soon" marker, in words (not colour alone). */
export function soon(text) {
  return h("p", { class: "soon" }, h("strong", {}, "Coming soon: "), text);
}

export function section(title, ...children) {
  const id = `s-${title.toLowerCase().replace(/[^a-z0-9]+/g, "-")}`;
  return h("section", { class: "panel", "aria-labelledby": id }, h("h2", { id }, title), children);
}

const SVG_NS = "http://www.w3.org/2000/svg";

/** An SVG element (charts): attributes only, text children as text nodes. */
export function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value != null && value !== false) el.setAttribute(key, String(value));
  }
  return append(el, children);
}

/** A labelled control: h("div.field", label, control, hint). */
export function field(label, control, hint) {
  const hintNode = hint ? h("span", { class: "hint", id: `${control.id}-hint` }, hint) : null;
  if (hintNode) control.setAttribute("aria-describedby", hintNode.id);
  return h("div", { class: "field" }, h("label", { for: control.id }, label), control, hintNode);
}

/** A <select> from [value, text] pairs with `value` chosen. */
export function choice(id, options, value, props) {
  return h(
    "select",
    { id, name: id, ...props },
    options.map(([v, text]) => h("option", { value: v, selected: String(v) === String(value ?? "") }, text)),
  );
}

/**
 * An action form: runs `act(form)` on submit with its buttons disabled, says what happened in a
 * polite status line (or the error in an alert), and calls `done(result)` after success.
 */
export function actionForm({ label, className, act, done, success }, ...children) {
  const status = h("p", { class: "action-status", role: "status", "aria-live": "polite" });
  const form = h("form", {
    class: `action ${className ?? ""}`.trim(),
    "aria-label": label,
    async onSubmit(event) {
      event.preventDefault();
      const buttons = [...form.querySelectorAll("button, input, select, textarea")];
      const was = buttons.map((b) => b.disabled);
      buttons.forEach((b) => (b.disabled = true));
      status.className = "action-status";
      status.textContent = "Working…";
      try {
        const result = await act(form, event.submitter);
        status.textContent = typeof success === "function" ? success(result) : success ?? "Done.";
        await done?.(result);
      } catch (err) {
        if (err.name === "AbortError") return;
        status.className = "action-status error";
        status.setAttribute("role", "alert");
        status.textContent = err.details?.length
          ? `${err.message}: ${err.details.map((d) => `${d.field ?? ""} ${d.message ?? ""}`.trim()).join("; ")}`
          : err.message || String(err);
      } finally {
        buttons.forEach((b, i) => (b.disabled = was[i]));
      }
    },
  });
  return append(form, [children, status]);
}

/** Offer text as a file download (CSV, HTML) without navigating away. */
export function download(name, text, type) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h("a", { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
