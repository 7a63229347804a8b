// Bar charts as inline SVG built from a report's figures (no library, no markup strings): each
// chart is an image with a text summary for screen readers, a tooltip per bar, and its numbers
// as a table one click away.

import { h, svg, table } from "./dom.js";

const W = 640;
const H = 240;
const PAD = { top: 16, right: 8, bottom: 56, left: 84 };

/** series: [{name, values, cls}] over the same labels; format(value) for the axis and tooltips. */
export function barChart({ title, labels, series, format = String, id }) {
  const max = Math.max(1, ...series.flatMap((s) => s.values));
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const slot = plotW / Math.max(1, labels.length);
  const barW = Math.max(2, (slot * 0.8) / series.length);
  const y = (v) => PAD.top + plotH - (v / max) * plotH;
  const every = Math.ceil(labels.length / 24); // at most ~24 axis labels
  const total = series.map((s) => `${s.name}: ${format(s.values.reduce((a, b) => a + b, 0))} in all`).join("; ");
  const peak = series[0].values.indexOf(Math.max(...series[0].values));
  const summary = labels.length
    ? `${title}. ${total}. Highest: ${labels[peak]} (${format(series[0].values[peak])}).`
    : `${title}: no data.`;

  const bars = [];
  labels.forEach((label, i) => {
    series.forEach((s, k) => {
      const v = s.values[i] ?? 0;
      const x = PAD.left + i * slot + slot * 0.1 + k * barW;
      bars.push(
        svg(
          "rect",
          { class: s.cls ?? "bar", x: x.toFixed(1), y: y(v).toFixed(1), width: barW.toFixed(1), height: (PAD.top + plotH - y(v)).toFixed(1), "data-value": v },
          svg("title", {}, `${label}: ${format(v)}${series.length > 1 ? ` (${s.name})` : ""}`),
        ),
      );
    });
  });
  const xLabels = labels.map((label, i) =>
    i % every
      ? null
      : svg(
          "text",
          {
            x: (PAD.left + i * slot + slot / 2).toFixed(1),
            y: H - PAD.bottom + 18,
            "text-anchor": labels.length > 8 ? "end" : "middle",
            transform: labels.length > 8 ? `rotate(-35 ${(PAD.left + i * slot + slot / 2).toFixed(1)} ${H - PAD.bottom + 18})` : null,
          },
          String(label).length > 14 ? `${String(label).slice(0, 13)}…` : String(label),
        ),
  );
  const chart = svg(
    "svg",
    { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": summary, id, "data-points": labels.length, preserveAspectRatio: "xMidYMid meet" },
    svg("title", {}, summary),
    svg("line", { class: "axis", x1: PAD.left, y1: PAD.top + plotH, x2: W - PAD.right, y2: PAD.top + plotH }),
    svg("line", { class: "axis", x1: PAD.left, y1: PAD.top, x2: PAD.left, y2: PAD.top + plotH }),
    svg("text", { x: PAD.left - 6, y: PAD.top + 4, "text-anchor": "end" }, format(max)),
    svg("text", { x: PAD.left - 6, y: PAD.top + plotH, "text-anchor": "end" }, format(0)),
    bars,
    xLabels,
  );
  const legend =
    series.length > 1
      ? h("p", { class: "legend" }, series.map((s) => [svgKey(s.cls), ` ${s.name}  `]))
      : null;
  return h(
    "figure",
    { class: "chart panel" },
    h("figcaption", {}, title),
    chart,
    legend,
    h(
      "details",
      {},
      h("summary", {}, "Show as a table"),
      table(title, ["", ...series.map((s) => s.name)], labels.map((l, i) => [String(l), ...series.map((s) => format(s.values[i] ?? 0))])),
    ),
  );
}

function svgKey(cls) {
  return svg("svg", { width: 12, height: 12, viewBox: "0 0 12 12", "aria-hidden": "true", class: "key" }, svg("rect", { class: cls ?? "bar", width: 12, height: 12 }));
}
