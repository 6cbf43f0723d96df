"""Serving the console: `/` leads to it, `/console/...` are its pages, `/console/assets/...` its
scripts, styles and the vendored chart library, all from the package (no CDN, no build step).

Pages are rendered from Jinja2 templates with nothing but the page's frame: every figure on
them is fetched by the page's own script from the gateway's public APIs, with the key the user
typed (kept in the browser's session storage). So the console can show nothing the APIs would
not answer that key, and holds no rules of its own.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import FastAPI
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.staticfiles import StaticFiles

from imagegate.console.pages import MENU, page_for
from imagegate.version import __version__

CONSOLE_PATH = "/console"
ASSETS_PATH = "/console/assets"


def security_headers(public_url: str | None) -> dict[str, str]:
    """Scripts and styles only from the gateway itself; images and videos also from data: and
    blob: URLs (a base64 answer, an uploaded reference) and from `public_url`'s origin, where
    the gateway's own `/media/...` links point (it may differ from the address in the browser:
    a proxy, or localhost against 127.0.0.1); no framing by other sites."""
    media = "'self' data: blob:"
    if public_url:
        parts = urlsplit(public_url)
        media += f" {parts.scheme}://{parts.netloc}"
    return {
        "Content-Security-Policy": (
            f"default-src 'self'; img-src {media}; media-src {media}; object-src 'none'; "
            "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
        ),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-cache",
    }


def install(app: FastAPI) -> None:
    headers = security_headers(app.state.settings.public_url)
    environment = Environment(
        loader=PackageLoader("imagegate.console", "templates"),
        autoescape=select_autoescape(),
        trim_blocks=True,
        lstrip_blocks=True,
    )

    async def home(request: Request) -> Response:
        return RedirectResponse(f"{_root(request)}{CONSOLE_PATH}/", status_code=307)

    async def page(request: Request) -> Response:
        path = request.path_params.get("path", "")
        found = page_for(path)
        root = _root(request)
        status = 200
        if found is None:
            template, title, values, status = "not_found.html", "Not found", {}, 404
        else:
            shown, values = found
            template, title = f"{shown.name}.html", shown.title
        html = environment.get_template(template).render(
            title=title,
            page=found[0].name if found else "",
            values=values,
            menu=MENU,
            base=f"{root}{CONSOLE_PATH}",
            assets=f"{root}{ASSETS_PATH}",
            api=root,
            version=__version__,
        )
        return HTMLResponse(html, status_code=status, headers=headers)

    app.mount(
        ASSETS_PATH,
        StaticFiles(packages=[("imagegate.console", "static")]),
        name="console-assets",
    )
    app.add_route("/", home, methods=["GET"], include_in_schema=False)
    app.add_route(CONSOLE_PATH, home, methods=["GET"], include_in_schema=False)
    app.add_route(f"{CONSOLE_PATH}/{{path:path}}", page, methods=["GET"], include_in_schema=False)


def _root(request: Request) -> str:
    return str(request.scope.get("root_path", "")).rstrip("/")
