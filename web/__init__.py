"""The review site and JSON API over the same database as the command line.

`create_app(settings)` builds a FastAPI application; `warmline web` serves it
with uvicorn.  FastAPI is imported on the first call, so that commands such
as `warmline users add`, which use web.users alone, start quickly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

    from warmline.settings import ProcessSettings
    from web.config import Clock
    from web.passwords import Passwords


def create_app(
    settings: ProcessSettings,
    clock: Clock | None = None,
    passwords: Passwords | None = None,
) -> FastAPI:
    """Build the site and API; see web.app.create_app."""
    from web.app import create_app as build

    return build(settings, clock, passwords)


__all__ = ["create_app"]
