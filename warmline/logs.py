"""Logging set-up: structlog to standard error, with secrets and addresses masked.

Levels: DEBUG per item, INFO one summary per batch or run, WARNING an outside
problem that was handled, ERROR something a person must fix.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

SECRET_KEYS = re.compile(r"token|password|secret|authorization|cookie|key$", re.I)
ADDRESS = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+)")


def mask_address(text: str) -> str:
    """Keep an address's first character and domain: s***@brookside-pt.example."""
    return ADDRESS.sub(r"\1***@\2", text)


def redact(
    _logger: Any, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Mask secret-looking fields and every address in string values."""
    for key, value in list(event.items()):
        if SECRET_KEYS.search(key):
            event[key] = "[redacted]"
        elif isinstance(value, str):
            event[key] = mask_address(value)
    return event


def configure_logging(level_name: str) -> None:
    """Send structured log lines at `level_name` and above to standard error."""
    level = logging.getLevelName(level_name.upper())
    if not isinstance(level, int):
        raise ValueError(
            f"log level {level_name!r} is unknown; use DEBUG, INFO, WARNING or ERROR"
        )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            redact,
            structlog.dev.ConsoleRenderer(colors=False),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
