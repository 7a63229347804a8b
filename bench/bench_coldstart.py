"""Cold-start budget: fresh-process time to import each function and load its model.

Targets on this machine: the Chalice app (import app + risk model session) <= 1.0 s, the slip
function (import handler + handwriting model session) <= 1.5 s. Also lists any forbidden module in
the API function's import graph (python -X importtime). Prints figures; exits 1 when a forbidden
module is imported, and over budget only with --enforce (timings on a shared machine vary).

    .venv/bin/python bench/bench_coldstart.py [--runs 5] [--enforce]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {"sklearn", "scipy", "skl2onnx", "cv2", "moto", "pytest", "onnx"}
CASES = {
    "api (app + risk model)": ("import app\nfrom chalicelib.risk import scorer\nscorer.load()\n", 1.0),
    "slip function (handler + embedder)": (
        "import functions.slip_scoring.handler\nfrom functions.slip_scoring import embedder\nembedder.session()\n",
        1.5,
    ),
}


def fresh(code: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - start


def import_graph(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code], cwd=ROOT, check=True, capture_output=True, text=True
    )
    mods = {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in out.stderr.splitlines() if "|" in line}
    return mods & FORBIDDEN


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--enforce", action="store_true", help="exit 1 when a median is over its budget")
    args = ap.parse_args()
    ok = True
    for name, (code, budget) in CASES.items():
        fresh(code)  # warm the OS file cache once, as a reused Lambda host would have it
        times = [fresh(code) for _ in range(args.runs)]
        med = statistics.median(times)
        verdict = "ok" if med <= budget else "OVER BUDGET"
        ok &= med <= budget
        print(
            f"{name:38s} median {med:.3f} s  min {min(times):.3f} s  max {max(times):.3f} s  "
            f"(budget {budget:.1f} s, {args.runs} runs) {verdict}"
        )
    bad = import_graph(CASES["api (app + risk model)"][0])
    print(f"api import graph forbidden modules: {sorted(bad) or 'none'}")
    return 0 if (ok or not args.enforce) and not bad else 1


if __name__ == "__main__":
    sys.exit(main())
