"""Rules of the architecture, checked: thin handlers, no Scan on request/event paths, and the
Chalice app's import graph free of OpenCV, scikit-learn and scipy."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNTIME = [ROOT / "app.py", *(ROOT / "chalicelib").rglob("*.py"), *(ROOT / "functions").rglob("*.py")]


def test_app_handlers_are_thin() -> None:
    tree = ast.parse((ROOT / "app.py").read_text())
    routes = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.decorator_list]
    assert len(routes) >= 12
    for fn in routes:
        body_lines = fn.end_lineno - fn.body[0].lineno + 1  # type: ignore[operator]
        assert body_lines <= 10, f"{fn.name} has {body_lines} lines"


def test_no_scan_on_any_runtime_path() -> None:
    offenders = [str(p.relative_to(ROOT)) for p in RUNTIME if re.search(r"\.scan\(|\"Scan\"|'Scan'", p.read_text())]
    assert offenders == []


def test_chalice_app_never_imports_opencv_sklearn_or_scipy() -> None:
    code = (
        "import sys, app\n"
        "from chalicelib.risk import scorer\n"
        "scorer.load()\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'cv2', 'sklearn', 'scipy', 'skl2onnx', 'onnx', 'moto', 'pytest'})\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", out.stdout


def test_slip_function_does_not_import_training_libraries() -> None:
    code = (
        "import sys, functions.slip_scoring.handler\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in {'sklearn', 'scipy', 'skl2onnx', 'moto'})\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", out.stdout
