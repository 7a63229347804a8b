"""Markdown tables of the measured figures in ``risk.json`` (pasted into the model card).

python -m training.risk.report [chalicelib/models/risk.json]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

PARTS = {
    "time_split": "A, time split (train customers, weeks 5-6)",
    "unseen_customers": "A, unseen customers",
    "simulator_b_seed101": "B seed 101",
    "simulator_b_seed202": "B seed 202",
    "simulator_b_seed303": "B seed 303",
}


def _row(cells: list[Any]) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def render(meta: dict[str, Any]) -> str:
    m = meta["metrics"]
    parts = [p for p in PARTS if p in m]
    t = meta["thresholds"]
    out = ["### Headline", "", _row(["test set", "bets", "base rate", "ROC AUC", "PR AUC", "precision @ recall 0.75",
                                      f"≥ high ({t['high']}): precision", "recall", "≥ medium without a reason"])]  # fmt: skip
    out.append(_row(["---"] * 9))
    for p in parts:
        v = m[p]
        hi = v["at_level"][f">= high ({t['high']})"]
        out.append(
            _row(
                [
                    PARTS[p],
                    v["bets"],
                    f"{v['base_rate']:.3f}",
                    f"{v['roc_auc']:.3f}",
                    f"{v['pr_auc']:.3f}",
                    f"{v['precision_at_recall_0.75']:.3f}",
                    f"{hi['precision']:.3f}",
                    f"{hi['recall']:.3f}",
                    v["bets_at_medium_without_signal"],
                ]
            )
        )
    out += ["", "### Precision / recall at each level", "", _row(["test set", *[f"≥ {k} ({v})" for k, v in t.items()]])]
    out.append(_row(["---"] * (len(t) + 1)))
    for p in parts:
        v = m[p]
        cells = [
            f"P {a['precision']:.3f} / R {a['recall']:.3f} ({100 * a['flag_rate']:.1f} % flagged)"
            for a in (v["at_level"][f">= {k} ({x})"] for k, x in t.items())
        ]
        out.append(_row([PARTS[p], *cells]))
    out += ["", "### Reliability (score band → observed share of risky bets, %)", ""]
    bands = [f"{lo}-{lo + 9 if lo < 90 else 100}" for lo in range(0, 100, 10)]
    out.append(_row(["test set", *bands]))
    out.append(_row(["---"] * (len(bands) + 1)))
    for p in parts:
        rel = {r["scores"]: r for r in m[p]["reliability"]}
        cells = [f"{rel[b]['observed_risky_pct']} (n={rel[b]['bets']})" if b in rel else "–" for b in bands]
        out.append(_row([PARTS[p], *cells]))
    out += ["", "### Recall at ≥ high by risky pattern (median score)", ""]
    pats = sorted({k for p in parts for k in m[p]["recall_by_pattern"]})
    out.append(_row(["pattern", *[PARTS[p] for p in parts]]))
    out.append(_row(["---"] * (len(parts) + 1)))
    for pat in pats:
        cells = []
        for p in parts:
            r = m[p]["recall_by_pattern"].get(pat)
            cells.append(f"{r['recall_at_high']:.2f} ({r['median_score']:.0f})" if r else "–")
        out.append(_row([pat, *cells]))
    out += ["", "### Hard negatives: share of innocent bets at ≥ high", ""]
    kinds = ["saturday_acca", "high_roller", "night_00_05_utc", "anonymous", "all_innocent"]
    out.append(_row(["kind", *[PARTS[p] for p in parts]]))
    out.append(_row(["---"] * (len(parts) + 1)))
    for k in kinds:
        cells = []
        for p in parts:
            r = m[p]["false_positive_rate_at_high"].get(k)
            cells.append(f"{100 * r['rate']:.1f} % (n={r['bets']})" if r else "–")
        out.append(_row([k, *cells]))
    out += ["", "### Signal groups: firing rate on the calibration fold (contribution ≥ 0.25 log-odds)", ""]
    out.append(_row(["group", "risky bets", "innocent bets", "lift", "shown"]))
    out.append(_row(["---"] * 5))
    sup = set(meta["suppressed_signals"])
    for g, v in sorted(meta["signal_lift_calibration_fold"].items(), key=lambda kv: -(kv[1]["lift"] or 1e9)):
        lift = "∞" if v["lift"] is None else f"{v['lift']:.2f}"
        out.append(
            _row(
                [
                    g,
                    f"{100 * v['risky_rate']:.1f} %",
                    f"{100 * v['innocent_rate']:.1f} %",
                    lift,
                    "no (suppressed)" if g in sup else "yes",
                ]
            )
        )
    seg = meta["segments"]
    out += [
        "",
        f"### Segments (k = {seg['k']})",
        "",
        _row(["k", *seg["silhouette_by_k"].keys()]),
        _row(["---"] * (len(seg["silhouette_by_k"]) + 1)),
    ]
    out.append(_row(["silhouette", *seg["silhouette_by_k"].values()]))
    out.append(_row(["inertia", *seg["inertia_by_k"].values()]))
    return "\n".join(out) + "\n"


def segments_table(path: Path) -> str:
    doc = json.loads(path.read_text())
    rows = [_row(["id", "name", "customers", "description"]), _row(["---"] * 4)]
    rows += [_row([s["id"], s["name"], s["customers"], s["description"]]) for s in doc["segments"]]
    return "\n".join(rows) + "\n"


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("chalicelib/models/risk.json")
    print(render(json.loads(path.read_text())))
    print(segments_table(path.with_name("risk_segments.json")))


if __name__ == "__main__":
    main()
