"""The application factory: builds the whole site from the process settings.

Nothing happens at import time; `create_app` opens the database engine,
loads the cookie-signing key and the templates, and wires the routes.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from warmline import providers
from warmline.db import create_engine, session_factory
from warmline.settings import ProcessSettings
from web import api, digest_links, feeds
from web.auth import SignInRequired, current_principal
from web.config import Clock, web_config
from web.oidc import load_oauth_setup
from web.pages import audit as audit_page
from web.pages import pages_router
from web.passwords import Passwords
from web.push import push_router
from web.rendering import build_templates, render
from web.sessions import CookieSigner
from web.state import WebState

STATIC = Path(__file__).parent / "static"

SECURITY_HEADERS = {
    # No inline scripts or styles: htmx is configured by a meta tag and the
    # chart's sizes are SVG attributes.
    b"content-security-policy": (
        b"default-src 'self'; script-src 'self'; style-src 'self'; "
        b"img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; "
        b"base-uri 'none'; object-src 'none'"
    ),
    b"x-content-type-options": b"nosniff",
    b"referrer-policy": b"same-origin",
    b"x-frame-options": b"DENY",
}


class SecurityHeaders:
    """ASGI middleware that adds SECURITY_HEADERS to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _value in headers}
                for name, value in SECURITY_HEADERS.items():
                    if name not in present:
                        headers.append((name, value))
                if scope["path"].startswith("/api"):
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(
    settings: ProcessSettings,
    clock: Clock | None = None,
    passwords: Passwords | None = None,
) -> FastAPI:
    """Build the site and API over the database in `settings.database_url`.

    `clock` returns the current aware UTC time, and `passwords` hashes with
    argon2-cffi's default parameters unless given; tests pass a fixed clock
    and cheaper parameters.  The database must already be migrated
    (`warmline web` migrates it).
    """
    config = web_config(settings) if clock is None else web_config(settings, clock)
    providers.register_all()
    engine = create_engine(config.database_url)
    state = WebState(
        config=config,
        engine=engine,
        sessions=session_factory(engine),
        passwords=passwords or Passwords(),
        signer=CookieSigner(config.session_key),
        templates=build_templates(),
    )

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        engine.dispose()

    app = FastAPI(
        title="Warmline",
        summary="Referral sources, touchpoints and their review, per workspace.",
        version="1",
        openapi_url="/api/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.web = state
    app.state.oauth = load_oauth_setup(settings, config.session_key)
    app.include_router(pages_router())
    app.include_router(audit_page.router, include_in_schema=False)
    app.include_router(api.router)
    app.include_router(push_router(settings))
    app.include_router(feeds.router)
    app.include_router(digest_links.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    _add_error_handlers(app)
    app.add_middleware(SecurityHeaders)
    return app


def _is_page(request: Request) -> bool:
    return not request.url.path.startswith(("/api/", "/static/"))


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(SignInRequired)
    async def sign_in_required(request: Request, _error: SignInRequired) -> Response:
        target = request.url.path
        if request.url.query:
            target += "?" + request.url.query
        url = "/signin?next=" + quote(target, safe="/")
        if request.headers.get("HX-Request"):
            # htmx would follow a redirect into the page it is updating.
            return Response(status_code=204, headers={"HX-Redirect": url})
        return RedirectResponse(url, status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        if not _is_page(request):
            return await http_exception_handler(request, error)
        return _error_page(request, error.status_code, str(error.detail))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(
        request: Request, error: RequestValidationError
    ) -> Response:
        if not _is_page(request):
            return await request_validation_exception_handler(request, error)
        fields = ", ".join(
            str(item["loc"][-1]) for item in error.errors() if item.get("loc")
        )
        return _error_page(request, 422, f"Invalid value for: {fields}.")


def _error_page(request: Request, status: int, message: str) -> Response:
    state = request.app.state.web
    with state.sessions() as db:
        principal = current_principal(request, db)
    context = {"status": status, "message": message}
    return render(request, "error.html", principal, context, status)
