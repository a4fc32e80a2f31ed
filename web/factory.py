"""The site built from the environment, for uvicorn's worker processes.

`warmline serve --workers N` hands uvicorn the import string
"web.factory:app_from_environment".  Each worker process calls it and reads
the settings from its environment, which the command fills beforehand, with
`--database` as WARMLINE_DATABASE_URL.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from warmline.logs import configure_logging
from warmline.settings import load_settings

if TYPE_CHECKING:
    from fastapi import FastAPI

IMPORT_STRING = "web.factory:app_from_environment"


def app_from_environment() -> FastAPI:
    """Build the site with the settings of this process's environment.

    Logging is set up here too, because a worker process does not run the
    command line.  NOTE: each process makes its own address-hashing key
    (warmline.logs.process_key), so one address hashes differently in the
    logs of different workers.
    """
    from web import create_app

    settings = load_settings()
    configure_logging(settings.log_level)
    return create_app(settings)
