"""A local emulator of Google's OAuth, Gmail v1 and Calendar v3 endpoints.

Start one per test module with `GoogleEmulator` as a context manager and
point the connectors at `emulator.url` (`GoogleSettings.with_endpoint`).
"""

from tests.emulators.google.data import fill_calendar, fill_mailbox, message_headers
from tests.emulators.google.faults import Fault
from tests.emulators.google.server import (
    CLIENT_ID,
    CLIENT_SECRET,
    DEFAULT_USER,
    GMAIL_COSTS_2026,
    GMAIL_COSTS_LEGACY,
    GoogleEmulator,
)

__all__ = [
    "CLIENT_ID",
    "CLIENT_SECRET",
    "DEFAULT_USER",
    "GMAIL_COSTS_2026",
    "GMAIL_COSTS_LEGACY",
    "Fault",
    "GoogleEmulator",
    "fill_calendar",
    "fill_mailbox",
    "message_headers",
]
