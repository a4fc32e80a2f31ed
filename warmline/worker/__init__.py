"""The Celery runtime: the same sync pipeline, run by workers on a broker.

`create_app` builds the Celery app from the process settings; the tasks,
the sync lease and the beat schedule live in the modules beside it.
"""

from warmline.worker.app import Runtime, WarmlineCelery, create_app
from warmline.worker.placement import PLACE_FOLLOW_UPS
from warmline.worker.tasks import (
    MATCH_ACTIVITIES,
    RUN_REMINDERS,
    SEND_DIGEST,
    SYNC_ACCOUNT,
    enqueue_after_commit,
)

__all__ = [
    "MATCH_ACTIVITIES",
    "PLACE_FOLLOW_UPS",
    "RUN_REMINDERS",
    "SEND_DIGEST",
    "SYNC_ACCOUNT",
    "Runtime",
    "WarmlineCelery",
    "create_app",
    "enqueue_after_commit",
]
