"""A local emulator of the Microsoft identity platform and the Graph v1.0
subset that Warmline's Outlook connectors use, with injectable faults.

Start it in-process with `GraphEmulator(tmp_path, clock)` as a context
manager; it listens on a loopback port only.
"""

from tests.emulators.microsoft.clock import FakeClock, SystemClock
from tests.emulators.microsoft.faults import Fault, Faults
from tests.emulators.microsoft.mailbox import Mailbox, address
from tests.emulators.microsoft.server import GraphEmulator, RequestRecord

__all__ = [
    "FakeClock",
    "Fault",
    "Faults",
    "GraphEmulator",
    "Mailbox",
    "RequestRecord",
    "SystemClock",
    "address",
]
