"""Server-rendered pages; each works without JavaScript."""

from fastapi import APIRouter

from web.pages import (
    account_forms,
    accounts,
    imports,
    review,
    settings,
    signin,
    sources,
    tasks,
    today,
)


def pages_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)
    modules = (
        signin,
        today,
        tasks,
        sources,
        review,
        accounts,
        account_forms,
        imports,
        settings,
    )
    for module in modules:
        router.include_router(module.router)
    return router
