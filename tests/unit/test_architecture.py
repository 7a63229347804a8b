"""Rules of the architecture, checked: the layers' imports, key formats and DynamoDB items only in
the adapters, thin handlers, no Scan on request/event paths, and the Chalice app's import graph
free of OpenCV, scikit-learn and scipy."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
LIB = ROOT / "chalicelib"
RUNTIME = [ROOT / "app.py", *LIB.rglob("*.py"), *(ROOT / "functions").rglob("*.py")]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def _under(module: str, forbidden: tuple[str, ...]) -> bool:
    return any(module == f or module.startswith(f + ".") for f in forbidden)


def _layer_files(layer: str) -> list[Path]:
    return sorted((LIB / layer).rglob("*.py"))


def test_domain_is_pure() -> None:
    forbidden = ("boto3", "botocore", "chalice", "requests", "chalicelib.adapters", "chalicelib.services")
    forbidden += ("chalicelib.api", "chalicelib.wiring", "chalicelib.core.aws", "aws_lambda_powertools")
    offenders = {
        str(p.relative_to(ROOT)): sorted(m for m in _imports(p) if _under(m, forbidden)) for p in _layer_files("domain")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_services_use_ports_not_adapters_or_http() -> None:
    forbidden = ("boto3", "botocore", "chalice", "chalicelib.adapters", "chalicelib.api", "chalicelib.core.aws")
    offenders = {
        str(p.relative_to(ROOT)): sorted(m for m in _imports(p) if _under(m, forbidden))
        for p in _layer_files("services")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_api_talks_to_services_only() -> None:
    forbidden = ("boto3", "botocore", "chalicelib.adapters", "chalicelib.core.aws")
    offenders = {
        str(p.relative_to(ROOT)): sorted(m for m in _imports(p) if _under(m, forbidden))
        for p in [*_layer_files("api"), ROOT / "app.py"]
    }
    assert {k: v for k, v in offenders.items() if v} == {}


# Key prefixes of the DynamoDB design and the shapes of hand-built items.
KEY_PATTERN = re.compile(r"""["'](CUST|WRITER|WRITERS|BET|SLIP|LINK|ACTIVE|RULESTATE|ALERT|ALERTS|KEY|USER|W)#""")
ITEM_PATTERN = re.compile(r"""\{\s*["'](S|N|B|BOOL|L|M|SS|NS)["']\s*:""")


def test_only_adapters_know_key_formats_and_items() -> None:
    outside = [
        p
        for p in RUNTIME
        if "adapters" not in p.relative_to(ROOT).parts
        # The slip function's dependency check runs its own tiny moto set-up elsewhere; runtime code only.
    ]
    keyed = [str(p.relative_to(ROOT)) for p in outside if KEY_PATTERN.search(p.read_text())]
    items = [str(p.relative_to(ROOT)) for p in outside if ITEM_PATTERN.search(p.read_text())]
    assert keyed == [] and items == []


def test_the_checks_above_can_fail() -> None:
    assert KEY_PATTERN.search('pk = f"CUST#{x}"') and ITEM_PATTERN.search('{"S": "x"}')
    assert not KEY_PATTERN.search("customer #1") and not ITEM_PATTERN.search('{"Sport": 1}')


def test_app_handlers_are_thin() -> None:
    files = [ROOT / "app.py", *(LIB / "api" / "routes").glob("*.py")]
    routes = [
        (f.name, n)
        for f in files
        for n in ast.parse(f.read_text()).body
        if isinstance(n, ast.FunctionDef) and n.decorator_list
    ]
    assert len(routes) >= 15
    for name, fn in routes:
        body_lines = fn.end_lineno - fn.body[0].lineno + 1  # type: ignore[operator]
        assert body_lines <= 16, f"{name}:{fn.name} has {body_lines} lines"


def test_no_scan_on_any_runtime_path() -> None:
    offenders = [str(p.relative_to(ROOT)) for p in RUNTIME if re.search(r"\.scan\(|\"Scan\"|'Scan'", p.read_text())]
    assert offenders == []


def test_chalice_app_never_imports_opencv_sklearn_or_scipy() -> None:
    code = (
        "import sys, app\n"
        "from chalicelib import wiring\n"
        "from chalicelib.risk import scorer\n"
        "scorer.load()\n"
        "import os; os.environ.setdefault('AWS_DEFAULT_REGION', 'eu-west-2')\n"
        "wiring.aws_adapters(wiring.settings())\n"
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


def test_the_slip_image_holds_every_module_the_function_imports() -> None:
    """The Dockerfile's COPY lines (and the CDK asset's context) cover the function's chalicelib imports."""
    code = (
        "import sys, functions.slip_scoring.handler as h\n"
        "h.processor.__wrapped__ if hasattr(h.processor, '__wrapped__') else None\n"
        "from chalicelib.adapters.dynamodb import slips\n"
        "from chalicelib.adapters import s3, sqs\n"
        "print('\\n'.join(sorted({m.__file__ for n, m in sys.modules.items() "
        "if n.startswith('chalicelib') and getattr(m, '__file__', None)})))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    used = {str(Path(f).relative_to(ROOT)) for f in out.stdout.split()}
    docker = (ROOT / "functions" / "slip_scoring" / "Dockerfile").read_text()
    sources = {s for line in docker.splitlines() if line.startswith("COPY ") for s in line.split()[1:-1]}
    covered = {u for u in used if any(u == s or u.startswith(s.rstrip("/") + "/") for s in sources)}
    assert used - covered == set()
