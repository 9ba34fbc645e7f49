"""/docs (Swagger UI) and /redoc from assets the service serves itself: no CDN, no inline script."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

ASSETS = "/docs/assets"  # swagger-ui-bundle.js, swagger-ui.css, redoc.standalone.js, favicon.png

_SWAGGER_START = """\
const openapiUrl = document.getElementById("swagger-ui").dataset.openapiUrl;
window.ui = SwaggerUIBundle({
  url: openapiUrl,
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  deepLinking: true,
  showExtensions: true,
  showCommonExtensions: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
});
"""

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" type="image/png" href="{assets}/favicon.png">
{head}
</head>
<body>
{body}
</body>
</html>
"""


def _vendored_assets() -> Path:
    return Path(str(files("fastapi_offline") / "static"))


def _page(title: str, head: str, body: str) -> HTMLResponse:
    return HTMLResponse(_PAGE.format(title=title, assets=ASSETS, head=head, body=body))


def install_docs(app: FastAPI, openapi_url: str) -> None:
    """Serve the docs pages, their start script and the vendored Swagger UI and ReDoc."""
    title = f"{app.title} - docs"

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return _page(
            title,
            f'<link rel="stylesheet" href="{ASSETS}/swagger-ui.css">',
            f'<div id="swagger-ui" data-openapi-url="{openapi_url}"></div>\n'
            f'<script src="{ASSETS}/swagger-ui-bundle.js"></script>\n'
            '<script src="/docs/start.js"></script>',
        )

    @app.get("/docs/start.js", include_in_schema=False)
    async def swagger_ui_start() -> Response:
        return Response(_SWAGGER_START, media_type="text/javascript")

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return _page(
            title,
            "",
            f'<redoc spec-url="{openapi_url}"></redoc>\n'
            f'<script src="{ASSETS}/redoc.standalone.js"></script>',
        )

    app.mount(ASSETS, StaticFiles(directory=_vendored_assets()), name="docs-assets")
