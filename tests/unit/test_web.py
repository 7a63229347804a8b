"""The staff web app's and Swagger UI's files as the API serves them: content types, CSP and the
other security headers, cache headers under content-hashed URLs, 404s in the JSON error shape,
pages that reference only local assets, and static checks of the front end's modules."""

from __future__ import annotations

import hashlib
import posixpath
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from chalicelib import wiring
from chalicelib.web import assets
from tests.helpers import Api

WANT_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}


class Refs(HTMLParser):
    """Every src/href/content URL of a page, and whether a <script> carries code inline."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline_scripts = 0
        self.meta_csp: str | None = None
        self._in_script_without_src = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.urls += [v for k, v in attrs if k in ("src", "href") and v]
        if tag == "script":
            self._in_script_without_src = "src" not in a
        if tag == "meta" and (a.get("http-equiv") or "").lower() == "content-security-policy":
            self.meta_csp = a.get("content")

    def handle_data(self, data: str) -> None:
        if self._in_script_without_src and data.strip():
            self.inline_scripts += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script_without_src = False


def _refs(html: bytes) -> Refs:
    p = Refs()
    p.feed(html.decode())
    return p


def _security(headers: dict[str, str], csp: str = assets.CSP) -> None:
    assert headers["Content-Security-Policy"] == csp
    assert "script-src 'self'" in assets.CSP and "unsafe" not in assets.CSP and "http" not in assets.CSP
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY" and headers["Referrer-Policy"] == "no-referrer"


def test_every_ui_asset_is_served_with_its_type_csp_and_a_year_of_cache(api: Api) -> None:
    assert len(assets.UI_ASSET_NAMES) >= 10
    for name in sorted(assets.UI_ASSET_NAMES):
        r = api.get(f"/ui/assets/{assets.UI.key}/{name}", headers={})
        assert r.status_code == 200, (name, r.body)
        assert r.headers["Content-Type"] == WANT_TYPES[Path(name).suffix], name
        assert r.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        _security(r.headers)
        assert r.body == (assets.UI_ROOT / name).read_bytes()


def test_every_docs_asset_is_served_with_its_type_and_csp(api: Api) -> None:
    types = {
        "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
        "swagger-init.js": "text/javascript; charset=utf-8",
        "swagger-ui.css": "text/css; charset=utf-8",
        "LICENSE": "text/plain; charset=utf-8",
        "NOTICE": "text/plain; charset=utf-8",
        "swagger-ui-bundle.js.LICENSE.txt": "text/plain; charset=utf-8",
    }
    assert set(assets.DOCS.files) == set(types)
    for name, kind in types.items():
        r = api.get(f"/docs/assets/{assets.DOCS.key}/{name}", headers={})
        assert r.status_code == 200 and r.headers["Content-Type"] == kind, name
        assert r.headers["Cache-Control"].endswith("immutable")
        _security(r.headers)


def test_a_stale_key_still_answers_but_uncached(api: Api) -> None:
    # A page from the previous deploy loading its modules during a deploy.
    r = api.get("/ui/assets/0123456789abcdef/main.js", headers={})
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-cache"


@pytest.mark.parametrize(
    "path",
    [
        "/ui/assets/{key}/nope.js",
        "/ui/assets/{key}/index.html",  # the page is /ui, not an asset
        "/ui/assets/{key}/views/nope.js",
        "/ui/assets/{key}/nope/main.js",
        "/ui/assets/{key}/..%2Fassets.py",
        "/ui/assets/{key}/views/..%2F..%2Fassets.py",
        "/docs/assets/{key}/swagger-ui-bundle.js.map",
        "/docs/assets/{key}/index.html",
        "/docs/assets/{key}/SHA256SUMS",
    ],
)
def test_unknown_assets_are_404_in_the_json_error_shape(api: Api, path: str) -> None:
    key = assets.DOCS.key if path.startswith("/docs") else assets.UI.key
    r = api.get(path.format(key=key), headers={})
    assert r.status_code == 404, r.body
    assert r.headers["Content-Type"] == "application/json"
    assert r.json_body["error"] == "not_found" and "asset" in r.json_body["message"]


def test_the_ui_page_names_only_its_own_assets_and_is_revalidated(api: Api) -> None:
    r = api.get("/ui", headers={})
    assert r.status_code == 200 and r.headers["Content-Type"] == "text/html; charset=utf-8"
    assert r.headers["Cache-Control"] == "no-cache"
    _security(r.headers, assets.ui_csp(wiring.container().uploads.image_origin()))
    refs = _refs(r.body)
    assert refs.inline_scripts == 0 and b"__BUILD__" not in r.body
    assert refs.urls and all(u.startswith(f"ui/assets/{assets.UI.key}/") for u in refs.urls), refs.urls
    for url in refs.urls:  # relative, so an API Gateway stage prefix (/api/ui) works too
        assert api.get("/" + url, headers={}).status_code == 200, url
    again = api.get("/ui", headers={"if-none-match": r.headers["ETag"]})
    assert again.status_code == 304 and again.body == b""


def test_docs_html_references_only_local_assets(api: Api) -> None:
    r = api.get("/docs", headers={})
    assert r.status_code == 200
    refs = _refs(r.body)
    assert refs.inline_scripts == 0
    assert b"cdn" not in r.body.lower() and b"https:" not in r.body and b"//" not in r.body.replace(b"://www", b"")
    local = [u for u in refs.urls if u != "data:,"]  # the empty icon keeps browsers off /favicon.ico
    assert sorted(local) == sorted(
        f"docs/assets/{assets.DOCS.key}/{n}" for n in ("swagger-ui.css", "swagger-ui-bundle.js", "swagger-init.js")
    )
    for url in local:
        assert api.get("/" + url, headers={}).status_code == 200, url
    assert refs.meta_csp is not None and "script-src 'self'" in refs.meta_csp
    # Swagger UI would otherwise send the spec to validator.swagger.io for its badge.
    assert "validatorUrl: null" in (assets.WEB / "docs" / "swagger-init.js").read_text()


def test_vendored_swagger_ui_matches_its_recorded_sha256() -> None:
    sums = (assets.SWAGGER_UI / "SHA256SUMS").read_text().split("\n")
    recorded = {name: digest for digest, name in (line.split() for line in sums if line)}
    assert set(recorded) == set(assets.SWAGGER_FILES)
    for name, digest in recorded.items():
        assert hashlib.sha256((assets.SWAGGER_UI / name).read_bytes()).hexdigest() == digest, name
    assert re.fullmatch(r"\d+\.\d+\.\d+", assets.SWAGGER_UI_VERSION)
    assert "Apache License" in (assets.SWAGGER_UI / "LICENSE").read_text()


def test_the_bundle_key_follows_every_file(tmp_path: Path) -> None:
    a, b = tmp_path / "a.js", tmp_path / "b.css"
    a.write_text("export const x = 1;\n")
    b.write_text("body {}\n")
    before = assets.Bundle({"a.js": a, "b.css": b}).key
    assert assets.Bundle({"a.js": a, "b.css": b}).key == before
    b.write_text("body { color: red; }\n")
    assert assets.Bundle({"a.js": a, "b.css": b}).key != before
    pinned = assets.Bundle({"a.js": a}, pinned={"a.js": "0" * 64})
    assert pinned.digest("a.js") == "0" * 64  # vendored files: from SHA256SUMS, not re-read


IMPORT = re.compile(r"""(?:from\s+|import\s*\(\s*)["']([^"']+)["']""")


def test_every_module_import_is_a_served_asset() -> None:
    """A typo in an import path fails here, not only in the browser; no bare specifiers (no import map)."""
    js = [n for n in assets.UI_ASSET_NAMES if n.endswith(".js")]
    for name in js:
        for spec in IMPORT.findall((assets.UI_ROOT / name).read_text()):
            assert spec.startswith("./") or spec.startswith("../"), (name, spec)
            target = posixpath.normpath(posixpath.join(posixpath.dirname(name), spec))
            assert target in assets.UI_ASSET_NAMES, (name, spec)


def test_no_module_writes_html_from_strings() -> None:
    """API data reaches the page as text nodes only (dom.js); markup from strings could carry a script."""
    sinks = re.compile(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function")
    offenders = [n for n in assets.UI_ASSET_NAMES if sinks.search((assets.UI_ROOT / n).read_text())]
    assert offenders == []


def test_web_routes_are_public_and_listed_under_their_own_tag(api: Api) -> None:
    doc = api.get("/openapi.json", headers={}).json_body
    web = {p: ops["get"] for p, ops in doc["paths"].items() if p == "/ui" or "/assets/" in p}
    ui = {"/ui", "/ui/assets/{key}/{name}", "/ui/assets/{key}/{folder}/{name}"}
    assert set(web) == ui | {"/docs/assets/{key}/{name}"}
    assert all(op["tags"] == ["web"] and "security" not in op for op in web.values())


def test_the_ui_page_may_show_images_from_the_slips_bucket_and_nowhere_else(api: Api) -> None:
    """Slip thumbnails are presigned GETs straight from the bucket: its origin joins img-src, and
    only img-src; scripts, styles and connections stay 'self'."""
    origin = wiring.container().uploads.image_origin()
    c = wiring.container()
    url = c.uploads.files.presign_get(c.settings.bucket("slips"), "slips/b/u", 60)
    assert origin and url.startswith(origin + "/")
    csp = api.get("/ui", headers={}).headers["Content-Security-Policy"]
    directives = dict(d.split(" ", 1) for d in csp.split("; "))
    assert directives["img-src"] == f"'self' data: {origin}"
    assert {k: v for k, v in directives.items() if k != "img-src"} == {
        k: v for k, v in (d.split(" ", 1) for d in assets.CSP.split("; ")) if k != "img-src"
    }
    # Modules and the stylesheet keep the plain policy.
    assert api.get(f"/ui/assets/{assets.UI.key}/main.js", headers={}).headers["Content-Security-Policy"] == assets.CSP


@pytest.mark.parametrize(
    "origin",
    [None, "", "https://x.example; script-src *", "https://a.example/path", "javascript:alert(1)", "https://a b"],
)
def test_anything_but_a_plain_origin_is_left_out_of_the_csp(origin: str | None) -> None:
    assert assets.ui_csp(origin) == assets.CSP


def test_an_s3_origin_joins_img_src() -> None:
    csp = assets.ui_csp("https://slips.s3.eu-west-2.amazonaws.com")
    assert "img-src 'self' data: https://slips.s3.eu-west-2.amazonaws.com;" in csp
    assert assets.ui_csp("http://127.0.0.1:5300").count("http://127.0.0.1:5300") == 1
