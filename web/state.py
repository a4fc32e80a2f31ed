"""The objects one application instance shares between requests."""

from __future__ import annotations

import dataclasses

from fastapi.templating import Jinja2Templates
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from warmline.kept_results import KeptResults
from web.config import WebConfig
from web.passwords import Passwords
from web.sessions import CookieSigner
from web.throttle import LoginLimit


@dataclasses.dataclass
class WebState:
    config: WebConfig
    engine: Engine
    sessions: sessionmaker[Session]
    passwords: Passwords
    signer: CookieSigner
    templates: Jinja2Templates
    kept: KeptResults = dataclasses.field(default_factory=KeptResults)

    @property
    def login_limit(self) -> LoginLimit:
        return LoginLimit(self.config.login_max_failures, self.config.login_window)
