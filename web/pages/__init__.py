"""Server-rendered pages; each works without JavaScript."""

from fastapi import APIRouter

from web.pages import accounts, imports, review, settings, signin, sources, today


def pages_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)
    for module in (signin, today, sources, review, accounts, imports, settings):
        router.include_router(module.router)
    return router
