"""The static files the API serves: a fixed catalogue per bundle (the staff app, Swagger UI), their
content types and the security and cache headers.

Each bundle's asset URLs carry a key made from its files' sha256 (`/ui/assets/<key>/main.js`), so an
asset can be cached for a year (`immutable`) and a deploy that changes any file changes every URL;
the HTML pages that name them are revalidated on every load (`no-cache` + ETag). Only names in the
catalogue are served — a request path never becomes a file path.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

WEB = Path(__file__).resolve().parent
SWAGGER_UI = WEB / "vendor" / "swagger-ui"

CONTENT_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".svg": "image/svg+xml",
    ".txt": "text/plain; charset=utf-8",
    "": "text/plain; charset=utf-8",  # LICENSE, NOTICE
}

# Only this origin, for everything; no inline script or style, no eval, no framing, no plugins.
# img-src allows data: for the icons Swagger UI's stylesheet embeds.
CSP = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "manifest-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    "Strict-Transport-Security": "max-age=31536000",  # ignored on plain-http localhost
}
IMMUTABLE = "public, max-age=31536000, immutable"
# An origin as it may appear in a CSP source list: scheme://host[:port], nothing that could end the directive.
_ORIGIN = re.compile(r"^[a-z][a-z0-9+.-]*://[A-Za-z0-9.-]+(:[0-9]{1,5})?$")


def ui_csp(image_origin: str | None) -> str:
    """The staff page's CSP: as CSP, plus slip thumbnails from the slips bucket's origin (the
    presigned GETs). Anything that is not a plain origin is left out, never spliced in."""
    if not image_origin or not _ORIGIN.match(image_origin):
        return CSP
    return CSP.replace("img-src 'self' data:", f"img-src 'self' data: {image_origin}")


REVALIDATE = "no-cache"


@dataclass(frozen=True)
class Asset:
    name: str
    body: str
    content_type: str
    etag: str


def content_type(name: str) -> str | None:
    return CONTENT_TYPES.get(Path(name).suffix)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _sums(path: Path) -> dict[str, str]:
    """`sha256sum` output: name -> digest."""
    out = {}
    for line in path.read_text().splitlines():
        digest, name = line.split(maxsplit=1)
        out[name.lstrip("*")] = digest
    return out


class Bundle:
    """Served name -> file, with a key over every file's digest. Digests of vendored files come
    from their SHA256SUMS (checked by the unit tests), so the key costs no read of a 1.7 MB file."""

    def __init__(self, files: Mapping[str, Path], pinned: Mapping[str, str] | None = None):
        self.files = dict(files)
        self.pinned = dict(pinned or {})
        self._cache: dict[str, Asset] = {}

    def digest(self, name: str) -> str:
        return self.pinned.get(name) or _sha256(self.files[name])

    @cached_property
    def key(self) -> str:
        joined = "\n".join(f"{name} {self.digest(name)}" for name in sorted(self.files))
        return hashlib.sha256(joined.encode()).hexdigest()[:16]

    def get(self, name: str) -> Asset | None:
        path = self.files.get(name)
        kind = content_type(name)
        if path is None or kind is None:
            return None
        if name not in self._cache:  # read once per process, on first use (not at cold start)
            self._cache[name] = Asset(name, path.read_text(encoding="utf-8"), kind, f'"{self.digest(name)[:32]}"')
        return self._cache[name]


def headers(asset: Asset, immutable: bool, csp: str = CSP) -> dict[str, str]:
    return {
        "Content-Type": asset.content_type,
        "Cache-Control": IMMUTABLE if immutable else REVALIDATE,
        "ETag": asset.etag,
        **SECURITY_HEADERS,
        "Content-Security-Policy": csp,
    }


def _tree(root: Path, skip: set[str]) -> dict[str, Path]:
    return {
        p.relative_to(root).as_posix(): p
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.suffix in CONTENT_TYPES and p.suffix and p.name not in skip
    }


# The staff app: every .js/.css/.svg under ui/ (index.html is the page itself, served at /ui).
UI_ROOT = WEB / "ui"
UI_INDEX = UI_ROOT / "index.html"
UI = Bundle({**_tree(UI_ROOT, {"index.html"}), "index.html": UI_INDEX})
UI_ASSET_NAMES = frozenset(UI.files) - {"index.html"}

# Swagger UI: the vendored files, as pinned, and our own initialiser (no inline script under the CSP).
SWAGGER_FILES = ("swagger-ui-bundle.js", "swagger-ui.css", "LICENSE", "NOTICE", "swagger-ui-bundle.js.LICENSE.txt")
SWAGGER_UI_VERSION = (SWAGGER_UI / "VERSION").read_text().strip()
DOCS = Bundle(
    {**{name: SWAGGER_UI / name for name in SWAGGER_FILES}, "swagger-init.js": WEB / "docs" / "swagger-init.js"},
    pinned=_sums(SWAGGER_UI / "SHA256SUMS"),
)


def ui_page(key_placeholder: str = "__BUILD__") -> Asset:
    """/ui: index.html with the asset key filled in (relative URLs, so an API Gateway stage prefix works)."""
    page = UI.get("index.html")
    assert page is not None
    return Asset(page.name, page.body.replace(key_placeholder, UI.key), page.content_type, f'"{UI.key}"')


def docs_html() -> str:
    """/docs: Swagger UI from /docs/assets/<key>/ (relative to /docs), the CSP as a meta tag since
    the /docs route sets only the content type."""
    base = f"docs/assets/{DOCS.key}"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP.replace("; frame-ancestors 'none'", "")}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>betwatch API</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{base}/swagger-ui.css"></head>
<body><div id="ui" data-openapi="openapi.json"></div>
<script src="{base}/swagger-ui-bundle.js"></script>
<script src="{base}/swagger-init.js"></script>
</body></html>"""
