"""Fetch OFL-licensed handwriting fonts from the npm ``@fontsource`` packages.

Each font plays one synthetic "writer" during training.  The fonts are downloaded
with ``npm pack`` (no install scripts run) into ``training/.cache/fonts`` (git-ignored);
only the ``latin-400-normal`` .woff file and the package's LICENSE are kept.

    python -m training.handwriting.fonts          # fetch all, print what loaded
"""

from __future__ import annotations

import io
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

CACHE_DIR = Path(__file__).resolve().parents[1] / ".cache" / "fonts"
FONTSOURCE_VERSION = "5.3.0"

# All SIL Open Font License 1.1 (Google Fonts handwriting category), via @fontsource.
FONTS: tuple[str, ...] = (
    "caveat",
    "indie-flower",
    "dancing-script",
    "shadows-into-light",
    "patrick-hand",
    "kalam",
    "gloria-hallelujah",
    "reenie-beanie",
    "nothing-you-could-do",
    "rock-salt",
    "covered-by-your-grace",
    "homemade-apple",
    "architects-daughter",
    "just-another-hand",
    "la-belle-aurore",
    "cedarville-cursive",
    "zeyada",
    "waiting-for-the-sunrise",
    "over-the-rainbow",
    "annie-use-your-telescope",
    "sue-ellen-francisco",
    "schoolbell",
    "coming-soon",
    "loved-by-the-king",
    "handlee",
    "nanum-pen-script",
    "gochi-hand",
    "short-stack",
    "delius",
    "itim",
    "caveat-brush",
    "pangolin",
    "sriracha",
    "mali",
    "kristi",
    "nanum-brush-script",
    "mynerve",
    "just-me-again-down-here",
    "dawning-of-a-new-day",
    "give-you-glory",
    "the-girl-next-door",
    "swanky-and-moo-moo",
    "neucha",
    "marck-script",
)


def font_path(name: str) -> Path:
    return CACHE_DIR / f"{name}-latin-400-normal.woff"


def _fetch_one(name: str) -> Path | None:
    target = font_path(name)
    if target.exists():
        return target
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        spec = f"@fontsource/{name}@{FONTSOURCE_VERSION}"
        proc = subprocess.run(
            ["npm", "pack", spec, "--silent", "--pack-destination", tmp],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if proc.returncode != 0:
            print(f"  {name}: npm pack failed: {proc.stderr.strip()[:200]}", file=sys.stderr)
            return None
        tarballs = list(Path(tmp).glob("*.tgz"))
        if not tarballs:
            return None
        with tarfile.open(tarballs[0]) as tar:
            members = {m.name: m for m in tar.getmembers()}
            wanted = f"package/files/{name}-latin-400-normal.woff"
            if wanted not in members:
                print(f"  {name}: no latin-400 woff in package", file=sys.stderr)
                return None
            data = tar.extractfile(members[wanted])
            assert data is not None
            target.write_bytes(data.read())
            lic = members.get("package/LICENSE")
            if lic is not None:
                lic_data = tar.extractfile(lic)
                if lic_data is not None:
                    (CACHE_DIR / f"{name}.LICENSE").write_bytes(lic_data.read())
    return target


def _loads_in_pillow(path: Path) -> bool:
    from PIL import ImageFont

    try:
        font = ImageFont.truetype(io.BytesIO(path.read_bytes()), 40)
        box = font.getbbox("Arkle 2.30 £10 e/w")
        return box[2] - box[0] > 20
    except OSError:
        return False


def fetch_fonts(names: tuple[str, ...] = FONTS) -> dict[str, Path]:
    """Return {font name: path} for every font that was fetched and loads in Pillow."""
    out: dict[str, Path] = {}
    for name in names:
        path = _fetch_one(name)
        if path is not None and _loads_in_pillow(path):
            out[name] = path
        elif path is not None:
            print(f"  {name}: Pillow cannot load {path.name}; skipped", file=sys.stderr)
    return out


if __name__ == "__main__":
    fonts = fetch_fonts()
    for n, p in fonts.items():
        print(f"{n:28s} {p}")
    print(f"{len(fonts)} fonts ready in {CACHE_DIR}")
