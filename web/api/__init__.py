"""The JSON API; its OpenAPI document is served at /api/openapi.json."""

from web.api.routes import router
from web.api.tasks import router as tasks_router

router.include_router(tasks_router)

__all__ = ["router"]
