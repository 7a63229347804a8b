"""Deployment size of every Lambda function: `layers/check_sizes.py` against the AWS limits.

Installs the runtime dependencies as Lambda gets them (manylinux wheels for python3.12 x86_64) from
the wheel cache in layers/.cache; the first run fills it from PyPI (~100 MB of wheels). Skipped when
the cache is incomplete and PyPI cannot be reached.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHECK = ROOT / "layers" / "check_sizes.py"
ZIP_LIMIT_BYTES = 262_144_000  # 250 MB: function code + layers, unzipped
IMAGE_LIMIT_BYTES = 10 * 1024**3


def _pypi_reachable() -> bool:
    try:
        with socket.create_connection(("pypi.org", 443), timeout=3):
            return True
    except OSError:
        return False


def _skip_unless_installable() -> None:
    from layers import build

    reqs = [build.requirements_of(layer) for layer in build.LAYERS]
    reqs.append(ROOT / "functions" / "slip_scoring" / "requirements.txt")
    if all(build.cached(r, "x86_64") for r in reqs):
        return
    if not _pypi_reachable():
        pytest.skip("layers/.cache has no wheels for the pins and PyPI (pypi.org:443) is unreachable")


def _run(*args: str, json_out: Path) -> tuple[subprocess.CompletedProcess[str], list[dict]]:
    proc = subprocess.run(
        [sys.executable, str(CHECK), "--json", str(json_out), *args],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    figures = json.loads(json_out.read_text()) if json_out.exists() else []
    return proc, figures


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    _skip_unless_installable()
    return _run(json_out=tmp_path_factory.mktemp("sizes") / "sizes.json")


def test_zip_functions_fit_in_250_mb(default_run):
    proc, figures = default_run
    assert proc.returncode == 0, proc.stdout + proc.stderr
    zips = [f for f in figures if f["deployment"] == "zip"]
    from chalicelib.core import resources

    assert {f["function"] for f in zips} == {f.name for f in resources.FUNCTIONS if f.package == "chalice"}
    assert len(zips) >= 4
    for f in zips:
        assert f["deps_bytes"] > 100 * 1024 * 1024  # numpy + onnxruntime layer
        assert f["total_bytes"] <= ZIP_LIMIT_BYTES, f


def test_slip_function_is_measured_as_an_image(default_run):
    proc, figures = default_run
    (slip,) = [f for f in figures if f["function"] == "slip_scoring"]
    assert slip["deployment"] == "image"
    # OpenCV + onnxruntime + numpy: over the zip limit, which is why it ships as an image.
    assert slip["code_bytes"] + slip["deps_bytes"] > ZIP_LIMIT_BYTES
    assert slip["total_bytes"] <= IMAGE_LIMIT_BYTES
    assert "container image (limit 10 GB)" in proc.stdout


def test_check_fails_when_a_function_outgrows_the_limit(tmp_path, default_run):
    proc, figures = _run("--limit-mb", "1", json_out=tmp_path / "sizes.json")
    assert proc.returncode != 0, proc.stdout
    assert "FAIL" in proc.stdout
    over = {f["function"] for f in figures if not f["ok"]}
    from chalicelib.core import resources

    # The image has its own limit.
    assert over == {f.name for f in resources.FUNCTIONS if f.package == "chalice"}
