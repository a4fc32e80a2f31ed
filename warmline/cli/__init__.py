"""The `warmline` command line: a thin face over the core services.

Each module adds its commands to the `main` group when imported.
"""

from warmline.cli import (
    placement_commands,
    privacy_commands,
    push_commands,
    reminder_commands,
    review_commands,
    setup_commands,
    sources_commands,
    sync_commands,
    web_commands,
    worker_commands,
)
from warmline.cli.app import AppContext, main

__all__ = [
    "AppContext",
    "main",
    "placement_commands",
    "privacy_commands",
    "push_commands",
    "reminder_commands",
    "review_commands",
    "setup_commands",
    "sources_commands",
    "sync_commands",
    "web_commands",
    "worker_commands",
]
