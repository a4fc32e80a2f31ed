"""The objects one application instance shares between requests."""

from __future__ import annotations

import dataclasses

from fastapi.templating import Jinja2Templates
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from warmline.remind.cold import ColdListCache
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
    cold_lists: ColdListCache = dataclasses.field(default_factory=ColdListCache)

    @property
    def login_limit(self) -> LoginLimit:
        return LoginLimit(self.config.login_max_failures, self.config.login_window)
