"""Unzipped size of every Lambda function (code + layers, or code + dependencies), against AWS limits.

    python layers/check_sizes.py                # python3.12, x86_64 (the architecture infra deploys)
    python layers/check_sizes.py --limit-mb 1   # proves the check fails when a function outgrows it

Dependencies are installed as Lambda would get them: the same `pip install --platform manylinux...
--target` as the layer build (`layers/build.py`, which this reuses, wheel cache included), so the
figures are those of the deployed artefacts, not of this machine's venv.

- Chalice functions (`CHALICE_FUNCTIONS` in infra/betwatch_stack.py): one deployment package for all
  of them, code = app.py + chalicelib/ (models included) + the two chalice runtime files `chalice
  package` adds; layers = every layer under layers/ (trimmed as built). Zip-deployed: function code
  plus all its layers must stay within 250 MB unzipped (262,144,000 bytes).
- slip_scoring (a container image): code = what infra's SLIP_IMAGE_CONTEXT puts in the image
  (functions/slip_scoring and the light chalicelib modules); dependencies = its requirements.txt
  installed untrimmed and byte-compiled, as the Dockerfile's `pip install` leaves them. The base image
  (public.ecr.aws/lambda/python:3.12) cannot be measured here (no Docker engine): a fixed allowance
  (--base-image-mb) is added before comparing with the 10 GB image limit.

Exit status 1 when any function is over its limit. Runs offline once `layers/.cache` holds the wheels.
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
MB = 1024 * 1024
ZIP_LIMIT_MB = 250  # function code + layers, unzipped: 262,144,000 bytes
IMAGE_LIMIT_MB = 10 * 1024  # container image, uncompressed
BASE_IMAGE_ALLOWANCE_MB = 1024  # not measured (no Docker here); generous for the python3.12 base image
SLIP_REQUIREMENTS = REPO / "functions/slip_scoring/requirements.txt"
STACK = REPO / "infra/betwatch_stack.py"

# Run as a script, sys.path[0] is layers/; the repo root makes `layers.build` importable (a bare
# `build` would clash with the PyPA package of that name).
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
from layers import build  # noqa: E402


@dataclass(frozen=True)
class Figure:
    function: str
    deployment: str  # "zip" | "image"
    code_bytes: int
    deps_bytes: int  # layers (zip) or installed dependencies (image)
    extra_bytes: int  # base image allowance (image)
    limit_bytes: int

    @property
    def total_bytes(self) -> int:
        return self.code_bytes + self.deps_bytes + self.extra_bytes

    @property
    def ok(self) -> bool:
        return self.total_bytes <= self.limit_bytes


# --- what each function ships ---------------------------------------------------------------------


def _stack_constant(name: str) -> object:
    """A literal assigned at module level in infra/betwatch_stack.py, read without importing CDK."""
    tree = ast.parse(STACK.read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            return ast.literal_eval(node.value)
    raise SystemExit(f"{name} not found in {STACK}")


def _files(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    return [p for p in build.files_under(root) if "__pycache__" not in p.parts and p.suffix != ".pyc"]


def chalice_code() -> tuple[int, list[str]]:
    """What `chalice package` puts in the zip besides dependencies (bytecode caches left out)."""
    files = [REPO / "app.py", *_files(REPO / "chalicelib")]
    notes = []
    spec = importlib.util.find_spec("chalice")
    if spec and spec.origin:
        pkg = Path(spec.origin).parent
        files += [pkg / "__init__.py", pkg / "app.py"]
    else:
        notes.append("chalice not importable here: its two runtime files (~90 KB) are not counted")
    return sum(f.stat().st_size for f in files), notes


def slip_context_files() -> list[Path]:
    """The files of the slip image's build context: infra's SLIP_IMAGE_CONTEXT, bytecode left out."""
    context = _stack_constant("SLIP_IMAGE_CONTEXT")
    assert isinstance(context, tuple)
    return [f for p in context for f in _files(REPO / p)]


def slip_code() -> int:
    return sum(f.stat().st_size for f in slip_context_files())


def chalice_functions() -> list[str]:
    from chalicelib.core import resources

    return [f.name for f in resources.FUNCTIONS if f.package == "chalice"]


# --- measuring ------------------------------------------------------------------------------------


def measure(arch: str, python: str, work: Path, *, limit_mb: float, base_image_mb: float) -> list[Figure]:
    layer_sizes: dict[str, int] = {}
    for layer in build.LAYERS:
        t0 = time.monotonic()
        site = build.stage_layer(layer, arch, python, work / f"layer-{layer}")
        layer_sizes[layer] = build.tree_size(site)
        print(f"  layer {layer:20} {layer_sizes[layer] / MB:8.1f} MB  ({time.monotonic() - t0:.1f}s)")

    t0 = time.monotonic()
    slip_site = work / "slip-deps"
    build.install(SLIP_REQUIREMENTS, slip_site, arch, python, compile_pyc=True)
    slip_deps = build.tree_size(slip_site)
    print(f"  slip_scoring dependencies  {slip_deps / MB:8.1f} MB  ({time.monotonic() - t0:.1f}s)")

    code, notes = chalice_code()
    for n in notes:
        print(f"  note: {n}")
    layers_total = sum(layer_sizes.values())
    zip_limit = int(limit_mb * MB)
    figures = [Figure(fn, "zip", code, layers_total, 0, zip_limit) for fn in chalice_functions()]
    figures.append(
        Figure("slip_scoring", "image", slip_code(), slip_deps, int(base_image_mb * MB), IMAGE_LIMIT_MB * MB)
    )
    return figures


def report(figures: list[Figure], limit_mb: float) -> None:
    print(f"\n{'function':16} {'code':>9} {'layers/deps':>12} {'total':>10}  limit")
    for f in figures:
        status = "ok" if f.ok else "OVER"
        contents = f.code_bytes + f.deps_bytes
        if f.deployment == "zip":
            limit = f"zip: code + layers <= {limit_mb:g} MB"
        else:
            limit = (
                f"container image (limit 10 GB): {contents / MB:.1f} MB code + deps"
                f" + {f.extra_bytes / MB:.0f} MB base-image allowance"
            )
        print(
            f"{f.function:16} {f.code_bytes / MB:7.2f} MB {f.deps_bytes / MB:9.1f} MB"
            f" {f.total_bytes / MB:7.1f} MB  {limit}  [{status}]"
        )


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--arch", choices=list(build.ARCHES), default="x86_64")
    ap.add_argument("--limit-mb", type=float, default=ZIP_LIMIT_MB, help="limit of zip-deployed functions (MB)")
    ap.add_argument("--base-image-mb", type=float, default=BASE_IMAGE_ALLOWANCE_MB)
    ap.add_argument("--python", help=f"CPython {build.RUNTIME} to run pip with (default: found automatically)")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args(argv)

    python = build.find_python(args.python)
    t0 = time.monotonic()
    print(f"Lambda python{build.RUNTIME} {args.arch}: installing dependencies (wheel cache: {build.CACHE})")
    with tempfile.TemporaryDirectory(prefix="betwatch-sizes-") as tmp:
        figures = measure(args.arch, python, Path(tmp), limit_mb=args.limit_mb, base_image_mb=args.base_image_mb)
    report(figures, args.limit_mb)
    if args.json:
        args.json.write_text(
            json.dumps([{**asdict(f), "total_bytes": f.total_bytes, "ok": f.ok} for f in figures], indent=2) + "\n"
        )
    over = [f.function for f in figures if not f.ok]
    print(f"\n({time.monotonic() - t0:.1f}s)")
    if over:
        print(f"FAIL: over the limit: {', '.join(over)}")
        return 1
    print("OK: every function within its limit")
    return 0


if __name__ == "__main__":
    sys.exit(main())
