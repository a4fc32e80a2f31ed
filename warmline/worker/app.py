"""The Celery app: built from the process settings by `create_app`.

Importing this module does no work.  `celery -A warmline.worker.app` reads
the module attribute `app`, which `__getattr__` builds on first access from
the environment; `warmline worker` and `warmline beat` call `create_app`
with the settings the command line already loaded.

Delivery is at least once.  Tasks are acknowledged after they finish
(acks_late), and a task whose pool process dies is put back on the queue
(reject_on_worker_lost).  A worker killed outright leaves its unacknowledged
task to the broker: RabbitMQ delivers it again as soon as the connection
drops, Redis after broker_visibility_timeout_seconds.  Every task is
therefore safe to run twice; the sync lease makes the second run wait or do
nothing.

NOTE: kombu's Redis transport takes a message off the queue (BRPOP) before
it records it as unacknowledged, so a worker killed between the two loses
that message.  Beat sends every account's sync again each
sync_interval_minutes, which bounds the loss to one interval's delay;
RabbitMQ has no such window.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

from celery import Celery
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from warmline import providers, secrets
from warmline.db import create_engine, session_factory
from warmline.logs import configure_logging
from warmline.settings import ProcessSettings, SettingError, load_settings
from warmline.worker import schedule

SMTP_PASSWORD_ENV = "WARMLINE_SMTP_PASSWORD"
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


class Runtime:
    """Process-wide resources of the tasks: settings, database and secret keys.

    The engine is made on first use in each process, so a prefork pool
    process never shares the connections of the process it was forked from.
    """

    def __init__(self, settings: ProcessSettings, smtp_password: str | None) -> None:
        self.settings = settings
        self.smtp_password = smtp_password
        self._engine: Engine | None = None
        self._sessions: sessionmaker[Session] | None = None
        self._pid: int | None = None

    @property
    def sessions(self) -> sessionmaker[Session]:
        if self._sessions is None or self._pid != os.getpid():
            self._engine = create_engine(self.settings.database_url)
            self._sessions = session_factory(self._engine)
            self._pid = os.getpid()
        return self._sessions

    def secret_box(self) -> secrets.SecretBox:
        return secrets.load_secret_box(
            self.settings.secret_keys, Path(self.settings.secret_key_file)
        )

    @property
    def worker_name(self) -> str:
        return f"{socket.gethostname()}:{os.getpid()}"


class WarmlineCelery(Celery):  # type: ignore[misc]
    """A Celery app that carries Warmline's runtime for its tasks."""

    runtime: Runtime


def create_app(settings: ProcessSettings) -> WarmlineCelery:
    """Build the Celery app, its tasks and its beat schedule from `settings`."""
    if not settings.broker_url:
        raise SettingError(
            "WARMLINE_BROKER_URL is not set; set it to the broker's URL, such as "
            "redis://127.0.0.1:6379/0 or amqp://guest:guest@127.0.0.1:5672//"
        )
    app = WarmlineCelery("warmline", set_as_current=False)
    app.conf.update(celery_config(settings))
    app.runtime = Runtime(settings, os.environ.get(SMTP_PASSWORD_ENV) or None)
    providers.register_all()

    from warmline.worker import tasks

    tasks.register(app)
    return app


def celery_config(settings: ProcessSettings) -> dict[str, Any]:
    """Return the Celery configuration for `settings`."""
    config: dict[str, Any] = {
        "broker_url": settings.broker_url,
        "result_backend": settings.result_backend or None,
        "result_expires": 86_400,
        "task_default_queue": settings.task_queue,
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "timezone": "UTC",
        "enable_utc": True,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        # One message in flight per pool process, so a killed worker strands
        # no more than the tasks it was running.
        "worker_prefetch_multiplier": 1,
        # The broker delivers an unacknowledged task again after a lost
        # connection, so the running copy is cancelled instead of finishing
        # alongside it.
        "worker_cancel_long_running_tasks_on_connection_loss": True,
        "broker_connection_retry_on_startup": True,
        # Logging is Warmline's own (warmline.logs), to standard error.
        # Celery's redirect of standard error into its logger would loop
        # those lines back into the handler that writes them, and drop them.
        "worker_hijack_root_logger": False,
        "worker_redirect_stdouts": False,
        "beat_schedule": schedule.beat_schedule(settings),
    }
    if settings.broker_url.startswith(REDIS_SCHEMES):
        config["broker_transport_options"] = redis_transport_options(settings)
    if settings.result_backend.startswith(REDIS_SCHEMES):
        config["result_backend_transport_options"] = {
            "global_keyprefix": redis_key_prefix(settings)
        }
    return config


def redis_key_prefix(settings: ProcessSettings) -> str:
    """Return the prefix of every Redis key of this deployment.

    Deployments that share a Redis database then never read each other's
    queues or unacknowledged messages.
    """
    return f"{settings.task_queue}:"


def redis_transport_options(settings: ProcessSettings) -> dict[str, Any]:
    """Return kombu's Redis options for redelivering the tasks of dead workers.

    kombu 5.7 scans for expired unacknowledged messages every
    `unacked_restore_interval` seconds but acts only on every
    `unacked_restore_throttle`-th scan, 100 s apart by default.  Scanning at
    every tick, at most 10 s apart, bounds the redelivery delay near the
    visibility timeout.  A scan takes a mutex in Redis.  When its worker dies
    during the scan, the mutex stays until `unacked_mutex_expire` (300 s by
    default) and every redelivery stalls that long.  A scan takes
    milliseconds, so half the visibility timeout is ample.
    """
    timeout = settings.broker_visibility_timeout_seconds
    return {
        "global_keyprefix": redis_key_prefix(settings),
        "visibility_timeout": timeout,
        "unacked_restore_interval": max(1, min(10, timeout // 5)),
        "unacked_restore_throttle": 1,
        "unacked_mutex_expire": max(1, min(300, timeout // 2)),
    }




_app_from_environment: WarmlineCelery | None = None


def __getattr__(name: str) -> WarmlineCelery:
    """Build `app` from the environment for `celery -A warmline.worker.app`."""
    global _app_from_environment
    if name != "app":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if _app_from_environment is None:
        settings = load_settings()
        configure_logging(settings.log_level)
        _app_from_environment = create_app(settings)
    return _app_from_environment
