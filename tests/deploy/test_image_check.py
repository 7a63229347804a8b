"""layers/check_image.py: the Dockerfile parser and build context refuse what docker build would not do.

The full check (pip install of the Lambda-platform wheels, then the handler run in a bare python3.12)
runs in `make test` as `make check-image`; these cover its refusals, which need no install.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from layers import check_image as ci

ROOT = Path(__file__).resolve().parents[2]
GOOD = (ROOT / "functions/slip_scoring/Dockerfile").read_text()


def test_the_project_dockerfile_parses() -> None:
    img = ci.parse_dockerfile(GOOD)
    assert img.base == "public.ecr.aws/lambda/python:3.12"
    assert img.cmd == ["functions.slip_scoring.handler.handler"]
    assert img.requirements == ["/tmp/requirements.txt"]
    assert any(dest == "/var/task/chalicelib/" for _, dest in img.copies)


@pytest.mark.parametrize(
    "extra",
    ["USER nobody", "RUN yum install -y mesa-libGL", "COPY --from=builder /x /y", "ADD https://x/y /z"],
)
def test_an_instruction_it_cannot_reproduce_fails_the_check(extra: str) -> None:
    with pytest.raises(SystemExit):
        ci.parse_dockerfile(GOOD + "\n" + extra + "\n")


def test_a_copy_outside_the_build_context_fails(tmp_path: Path) -> None:
    bad = GOOD.replace(
        "chalicelib/services/slip_processing.py", "chalicelib/services/slip_processing.py chalicelib/wiring.py"
    )
    with pytest.raises(SystemExit, match=r"chalicelib/wiring\.py: not in the build context"):
        ci.assemble(ci.parse_dockerfile(bad), tmp_path, sys.executable)


def test_the_context_is_what_the_cdk_asset_sends() -> None:
    files = {f.relative_to(ROOT).as_posix() for f in ci.check_sizes.slip_context_files()}
    assert "functions/slip_scoring/handler.py" in files and "functions/slip_scoring/model/handwriting.onnx" in files
    assert "app.py" not in files and not any(f.startswith("chalicelib/risk") for f in files)
