"""chalicelib/domain stays pure: no AWS, web framework or HTTP client, and nothing from the layers above it."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = ROOT / "chalicelib" / "domain"
FORBIDDEN = {"boto3", "botocore", "chalice", "requests", "urllib3", "aws_lambda_powertools", "moto"}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_domain_modules_import_only_pure_things() -> None:
    files = sorted(DOMAIN.rglob("*.py"))
    assert len(files) >= 10
    for path in files:
        for name in _imports(path):
            top = name.split(".")[0]
            assert top not in FORBIDDEN, f"{path.relative_to(ROOT)} imports {name}"
            if top == "chalicelib":
                assert name.startswith("chalicelib.domain"), f"{path.relative_to(ROOT)} imports {name}"


def test_importing_the_parsers_loads_no_aws_library() -> None:
    code = (
        "import sys\n"
        "import chalicelib.domain.betfiles, chalicelib.domain.history_csv, chalicelib.domain.settlement\n"
        f"print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in {sorted(FORBIDDEN)!r})))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
