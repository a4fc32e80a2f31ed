"""CalDAV calendars as meeting activities, synced with WebDAV sync tokens or ETags."""

from connectors.caldav.config import CaldavConfig, CaldavTimeouts, RetryPolicy
from connectors.caldav.sync import CaldavReader

__all__ = ["CaldavConfig", "CaldavReader", "CaldavTimeouts", "RetryPolicy"]
