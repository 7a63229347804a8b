"""Reproducible Lambda layers with the Chalice app's runtime dependencies (python3.12, x86_64/arm64).

    python layers/build.py --arch x86_64 --out layers/dist
    python layers/build.py --arch arm64 --out layers/dist

Each directory of `layers/` holding a `requirements.txt` is one layer. For each, pip installs the
pinned wheels for the Lambda platform (manylinux, CPython 3.12, the chosen architecture) into
`<staging>/python`, the tree is trimmed of what the runtime never reads, and the result is zipped
deterministically (sorted entries, fixed timestamps and permissions): two builds of the same pins
give the same sha256. The zips, a `SHA256SUMS` and a `manifest.json` (unzipped sizes) are written to
`<out>/<arch>/`.

Wheels are kept in `layers/.cache/wheels-cp312-<arch>/`. pip installs from there with no index at
all; only when a pin is missing there does it download (`pip download`) from the configured index.
Once the cache is filled, builds run offline.
"""

from __future__ import annotations

import argparse
import csv
import glob
import hashlib
import json
import os
import platform
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CACHE = HERE / ".cache"
RUNTIME = "3.12"  # the Lambda runtime the layers are built for (python3.12)
ARCHES = {"x86_64": "x86_64", "arm64": "aarch64"}  # Lambda architecture -> manylinux machine
LAYERS = tuple(sorted(p.parent.name for p in HERE.glob("*/requirements.txt")))

# Zip entries carry this timestamp (the zip format cannot go earlier), unless SOURCE_DATE_EPOCH is set.
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)

# Directories named `tests` are removed only inside these packages: their test suites are shipped in
# the wheel and nothing outside them imports them (numpy.testing, which code may use, is kept).
STRIP_TESTS_IN = ("numpy",)


@dataclass(frozen=True)
class Layer:
    name: str
    arch: str
    zip_path: str
    sha256: str
    unzipped_bytes: int
    zipped_bytes: int
    files: int
    requirements_sha256: str = ""  # of the layer's requirements.txt: a changed pin makes the zip stale


# --- interpreter and pip ------------------------------------------------------------------------


def find_python(explicit: str | None = None) -> str:
    """A CPython matching the runtime (3.12): the one given, this one, the repo venv, PATH, pyenv."""
    candidates: list[str | None] = [explicit] if explicit else []
    if not explicit:
        candidates += [sys.executable, str(REPO / ".venv/bin/python"), shutil.which(f"python{RUNTIME}")]
        candidates += sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/{RUNTIME}*/bin/python{RUNTIME}")))
    for c in candidates:
        if not c or not Path(c).exists():
            continue
        out = subprocess.run(
            [c, "-c", "import sys, platform; print(platform.python_implementation(), *sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=False,
        )
        if out.returncode == 0 and out.stdout.split() == ["CPython", *RUNTIME.split(".")]:
            return c
    raise SystemExit(f"no CPython {RUNTIME} found (tried {[c for c in candidates if c]}); pass --python")


def platform_args(arch: str) -> list[str]:
    machine = ARCHES[arch]
    return [
        f"--platform=manylinux2014_{machine}",
        f"--platform=manylinux_2_28_{machine}",
        "--implementation=cp",
        f"--python-version={RUNTIME}",
        "--only-binary=:all:",
    ]


def wheelhouse(arch: str) -> Path:
    return CACHE / f"wheels-cp{RUNTIME.replace('.', '')}-{arch}"


def _pip(python: str, args: Sequence[str], *, isolated: bool, quiet: bool = True) -> subprocess.CompletedProcess[str]:
    cmd = [python, "-m", "pip", *args, "--disable-pip-version-check", "--no-input"]
    if isolated:  # ignore pip.conf / PIP_* so the offline install is the same everywhere
        cmd.insert(3, "--isolated")
    return subprocess.run(cmd, capture_output=quiet, text=True, check=False)


def download(requirements: Iterable[Path], arch: str, python: str) -> None:
    """Fill the wheel cache for these pins (uses the network and the user's pip configuration)."""
    dest = wheelhouse(arch)
    dest.mkdir(parents=True, exist_ok=True)
    reqs = [a for r in requirements for a in ("-r", str(r))]
    t0 = time.monotonic()
    res = _pip(python, ["download", *platform_args(arch), "--dest", str(dest), *reqs], isolated=False)
    if res.returncode != 0:
        sys.stderr.write(res.stdout + res.stderr)
        raise SystemExit(f"pip download failed for {arch} ({', '.join(map(str, requirements))})")
    print(f"  downloaded wheels for {arch} into {dest.relative_to(REPO)} in {time.monotonic() - t0:.1f}s")


def pins(requirements: Path) -> dict[str, str]:
    """`name==version` lines of a requirements file (names normalized as in wheel file names)."""
    out = {}
    for line in requirements.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = (x.strip() for x in line.split("==", 1))
            out[re.sub(r"[-_.]+", "_", name).lower()] = version
    return out


def cached(requirements: Path, arch: str) -> bool:
    """Whether the wheel cache holds a wheel for every pin of `requirements` (no network needed)."""
    have = {f.name.lower() for f in wheelhouse(arch).glob("*.whl")} if wheelhouse(arch).is_dir() else set()
    return all(any(w.startswith(f"{n}-{v}-") for w in have) for n, v in pins(requirements).items())


def install(requirements: Path, target: Path, arch: str, python: str, *, compile_pyc: bool = False) -> None:
    """pip install --target for the Lambda platform, from the wheel cache (downloading what is missing)."""
    args = [
        "install",
        *platform_args(arch),
        "--target",
        str(target),
        "--no-index",
        "--find-links",
        str(wheelhouse(arch)),
        "--compile" if compile_pyc else "--no-compile",
        "-r",
        str(requirements),
    ]
    wheelhouse(arch).mkdir(parents=True, exist_ok=True)
    res = _pip(python, args, isolated=True)
    if res.returncode != 0:  # something is not cached yet: fetch it, then install from the cache again
        shutil.rmtree(target, ignore_errors=True)
        download([requirements], arch, python)
        res = _pip(python, args, isolated=True)
        if res.returncode != 0:
            sys.stderr.write(res.stdout + res.stderr)
            raise SystemExit(f"pip install failed for {requirements} ({arch})")


# --- trimming, sizes, zips ----------------------------------------------------------------------


# What the python3.12 runtime itself provides (its boto3's own pairing): never shipped in a layer.
RUNTIME_PROVIDED = (
    "botocore",
    "botocore-*.dist-info",
    "urllib3",
    "urllib3-*.dist-info",
    "dateutil",
    "python_dateutil-*.dist-info",
    "six.py",
    "six-*.dist-info",
)


def strip(site: Path) -> int:
    """Remove what the runtime never reads; returns the bytes removed.

    - `__pycache__`/`*.pyc`: pip runs with --no-compile anyway (timestamped pycs are not
      reproducible); Lambda compiles in memory on import (/opt is read-only).
    - `bin/`: console scripts whose shebang is the build interpreter's path (not reproducible, and
      /opt/python/bin is not on PATH in Lambda).
    - `tests/` directories, only in STRIP_TESTS_IN packages.
    - RUNTIME_PROVIDED: botocore and its dependencies, pulled in by aws-xray-sdk.
    `*.dist-info` is kept (importlib.metadata reads it), but each RECORD loses the lines of files
    not shipped: those of `bin/` carry the hash of a script whose shebang is the build interpreter's
    path, which would make the zip differ from one machine (or venv) to another.
    """
    removed = 0
    doomed: list[Path] = [site / "bin"] if (site / "bin").is_dir() else []
    doomed += [p for pattern in RUNTIME_PROVIDED for p in site.glob(pattern)]
    doomed += [p for p in site.rglob("__pycache__") if p.is_dir()]
    for pkg in STRIP_TESTS_IN:
        if (site / pkg).is_dir():
            doomed += [p for p in (site / pkg).rglob("tests") if p.is_dir()]
    for p in sorted(set(doomed), key=lambda p: len(p.parts)):
        if p.is_dir():
            removed += tree_size(p)
            shutil.rmtree(p)
        elif p.exists():
            removed += p.stat().st_size
            p.unlink()
    for p in site.rglob("*.pyc"):
        removed += p.stat().st_size
        p.unlink()
    for record in sorted(site.glob("*.dist-info/RECORD")):
        _prune_record(site, record)
    return removed


def _prune_record(site: Path, record: Path) -> None:
    """Keep only the RECORD lines of files present in the layer (paths are relative to `site`)."""
    root = site.resolve()
    kept = []
    for row in csv.reader(record.read_text().splitlines()):
        if not row:
            continue
        path = (site / row[0]).resolve()
        if path.is_relative_to(root) and path.is_file():
            kept.append(row)
    with record.open("w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(kept)


def files_under(root: Path) -> list[Path]:
    out = []
    for p in root.rglob("*"):
        if p.is_symlink():
            raise SystemExit(f"unexpected symlink in layer: {p}")
        if p.is_file():
            out.append(p)
    return sorted(out, key=lambda p: p.relative_to(root).as_posix())


def tree_size(root: Path) -> int:
    """Unzipped size as Lambda counts it: the sum of the sizes of the files."""
    if root.is_file():
        return root.stat().st_size
    return sum(p.stat().st_size for p in files_under(root))


def _zip_time() -> tuple[int, int, int, int, int, int]:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if not epoch:
        return ZIP_EPOCH
    t = time.gmtime(max(int(epoch), 315532800))  # 1980-01-01
    return (t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec)


def deterministic_zip(root: Path, zip_path: Path) -> int:
    """Zip `root`'s contents (paths relative to root) byte-for-byte reproducibly; returns the file count."""
    when = _zip_time()
    files = files_under(root)
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = zip_path.with_suffix(".zip.tmp")
    with zipfile.ZipFile(tmp, "w") as zf:
        for f in files:
            info = zipfile.ZipInfo(f.relative_to(root).as_posix(), date_time=when)
            info.create_system = 3  # unix, so the permissions below are honoured
            mode = 0o755 if f.stat().st_mode & stat.S_IXUSR else 0o644
            info.external_attr = (stat.S_IFREG | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, f.read_bytes(), compresslevel=6)
    tmp.replace(zip_path)
    return len(files)


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def requirements_of(layer: str) -> Path:
    return HERE / layer / "requirements.txt"


def stage_layer(layer: str, arch: str, python: str, staging: Path) -> Path:
    """Install and trim one layer into `staging/python`; returns that directory."""
    site = staging / "python"
    shutil.rmtree(staging, ignore_errors=True)
    install(requirements_of(layer), site, arch, python)
    strip(site)
    return site


def build_layer(layer: str, arch: str, out: Path, python: str) -> Layer:
    with tempfile.TemporaryDirectory(prefix=f"layer-{layer}-{arch}-") as tmp:
        staging = Path(tmp)
        stage_layer(layer, arch, python, staging)
        zip_path = out / arch / f"{layer}-python{RUNTIME}-{arch}.zip"
        n = deterministic_zip(staging, zip_path)
        unzipped = tree_size(staging)
    req_sha = sha256(HERE / layer / "requirements.txt")
    return Layer(layer, arch, str(zip_path), sha256(zip_path), unzipped, zip_path.stat().st_size, n, req_sha)


def write_manifest(arch_dir: Path, built: Sequence[Layer]) -> None:
    (arch_dir / "SHA256SUMS").write_text("".join(f"{b.sha256}  {Path(b.zip_path).name}\n" for b in built))
    manifest = [{**asdict(b), "zip_path": Path(b.zip_path).name} for b in built]
    (arch_dir / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")


def ensure(arch: str, out: Path = HERE / "dist", python: str | None = None) -> dict[str, Path]:
    """The layer zips for `arch`, built only when missing or older than their requirements.txt.

    Used by the CDK stack, so `cdk synth` always packages layers that match the pins. The manifest
    records each zip's sha256 and its requirements' sha256; anything missing or different rebuilds.
    """
    arch_dir = out.resolve() / arch
    try:
        manifest = {m["name"]: m for m in json.loads((arch_dir / "manifest.json").read_text())}
    except (OSError, ValueError):
        manifest = {}

    def fresh(layer: str) -> bool:
        m = manifest.get(layer)
        if not m or m.get("requirements_sha256") != sha256(HERE / layer / "requirements.txt"):
            return False
        z = arch_dir / m["zip_path"]
        return z.is_file() and sha256(z) == m["sha256"]

    if all(fresh(layer) for layer in LAYERS):
        return {layer: arch_dir / manifest[layer]["zip_path"] for layer in LAYERS}
    py = find_python(python)
    built = [build_layer(layer, arch, out.resolve(), py) for layer in LAYERS]
    write_manifest(arch_dir, built)
    return {b.name: Path(b.zip_path) for b in built}


# --- smoke test (host architecture only) ----------------------------------------------------------

SMOKE = {
    "numpy-onnxruntime": (
        "import numpy, onnxruntime, pathlib\n"
        "assert all(m.__file__.startswith(ROOT) for m in (numpy, onnxruntime)), 'imported outside the layer'\n"
        "model = pathlib.Path(REPO, 'chalicelib/models/risk.onnx')\n"
        "if model.exists():\n"
        "    s = onnxruntime.InferenceSession(str(model), providers=['CPUExecutionProvider'])\n"
        "    i = s.get_inputs()[0]\n"
        "    shape = [d if isinstance(d, int) else 1 for d in i.shape]\n"
        "    s.run(None, {i.name: numpy.zeros(shape, dtype=numpy.float32)})\n"
        "print('numpy', numpy.__version__, 'onnxruntime', onnxruntime.__version__)\n"
    ),
    "pydantic": (
        "import pydantic, jwt, aws_lambda_powertools\n"
        "from aws_lambda_powertools.utilities.batch import BatchProcessor\n"
        "assert all(m.__file__.startswith(ROOT) for m in (pydantic, jwt, aws_lambda_powertools))\n"
        "class M(pydantic.BaseModel):\n    x: int\n"
        "assert M.model_validate({'x': '1'}).x == 1\n"
        "assert jwt.decode(jwt.encode({'a': 1}, 'k' * 32), 'k' * 32, algorithms=['HS256']) == {'a': 1}\n"
        "print('pydantic', pydantic.VERSION, 'powertools ok, jwt ok')\n"
    ),
}


def smoke(layer: str, zip_path: Path, python: str) -> str:
    """Import the layer's packages from the extracted zip alone (no site-packages), like /opt/python."""
    with tempfile.TemporaryDirectory(prefix="layer-smoke-") as tmp:
        zipfile.ZipFile(zip_path).extractall(tmp)
        root = str(Path(tmp, "python"))
        code = f"import sys; ROOT={root!r}; REPO={str(REPO)!r}; sys.path.insert(0, ROOT)\n" + SMOKE[layer]
        res = subprocess.run([python, "-I", "-S", "-c", code], capture_output=True, text=True, check=False)
    if res.returncode != 0:
        raise SystemExit(f"smoke test of {layer} failed:\n{res.stdout}{res.stderr}")
    return res.stdout.strip()


def host_arch() -> str | None:
    m = platform.machine()
    if sys.platform != "linux":
        return None
    return {"x86_64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}.get(m)


# --- CLI ------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--arch", choices=[*ARCHES, "all"], required=True)
    ap.add_argument("--out", type=Path, default=HERE / "dist")
    ap.add_argument("--layer", choices=LAYERS, action="append", help="build only these (default: all)")
    ap.add_argument("--python", help=f"CPython {RUNTIME} to run pip with (default: found automatically)")
    ap.add_argument("--no-smoke", action="store_true", help="skip importing the layers (host arch only)")
    args = ap.parse_args(argv)

    python = find_python(args.python)
    arches = list(ARCHES) if args.arch == "all" else [args.arch]
    layers = args.layer or list(LAYERS)
    out = args.out.resolve()
    for arch in arches:
        built: list[Layer] = []
        for layer in layers:
            t0 = time.monotonic()
            lay = build_layer(layer, arch, out, python)
            note = ""
            if not args.no_smoke and arch == host_arch():
                note = " | smoke: " + smoke(layer, Path(lay.zip_path), python)
            print(
                f"{arch:7} {layer:18} unzipped {lay.unzipped_bytes / 2**20:7.1f} MB,"
                f" zip {lay.zipped_bytes / 2**20:6.1f} MB,"
                f" {lay.files} files, sha256 {lay.sha256[:16]}… ({time.monotonic() - t0:.1f}s){note}"
            )
            built.append(lay)
        arch_dir = out / arch
        write_manifest(arch_dir, built)
        total = sum(b.unzipped_bytes for b in built)
        print(f"{arch:7} {'all layers':18} unzipped {total / 2**20:7.1f} MB -> {arch_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
