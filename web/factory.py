"""The site built from the environment, for uvicorn's worker processes.

`warmline serve --workers N` hands uvicorn the import string
"web.factory:app_from_environment".  Each worker process calls it and reads
the settings from its environment, which the command fills beforehand, with
`--database` as WARMLINE_DATABASE_URL.
"""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING

from warmline.logs import configure_logging
from warmline.settings import ProcessSettings, load_settings

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
    settings = load_settings()
    configure_logging(settings.log_level)
    return serving_app(settings)


def serving_app(settings: ProcessSettings) -> FastAPI:
    """Build the site for `warmline serve` and start priming its kept figures.

    Tests build the site with web.create_app, which primes nothing, so the
    priming thread never races a test's own changes.
    """
    from web import create_app
    from web.pages.today import FOLLOW_UPS_SHOWN, LOOPS_SHOWN, REVIEWS_SHOWN
    from web.summaries import prime_in_background

    app = create_app(settings)
    # Once the site is built, the garbage collector tracks about 240,000
    # objects, nearly all from imported modules, that live as long as the
    # process.  Each full collection walked them all: 60 to 100 ms with
    # benchmarks/bench_web.py's data, stalling the process's requests.
    # Frozen, they are left out of every later collection.
    gc.collect()
    gc.freeze()
    state = app.state.web
    # Stored on the app, so that code disposing of the engine can wait for it.
    app.state.priming = prime_in_background(
        state.kept,
        state.sessions,
        state.config.clock,
        REVIEWS_SHOWN,
        FOLLOW_UPS_SHOWN,
        LOOPS_SHOWN,
    )
    return app
