"""The JSON API; its OpenAPI document is served at /api/openapi.json."""

from web.api.routes import router

__all__ = ["router"]
