"""Matcher: link activities to referral sources, with scored reasons.

Build a `SourceIndex` once per sync from a workspace's practices, providers
and contacts, then call `match_activity` for each activity.  Nothing here
imports the database or the web view.  From connectors it uses only the
plain activity records.
"""

from matcher.filters import classify, is_automated_address, is_internal_address
from matcher.freemail import FREE_MAIL_DOMAINS, is_free_mail_domain
from matcher.index import SourceIndex
from matcher.match import collector_paused, match_activity
from matcher.names import PersonName, compare_names, parse_person_name
from matcher.records import (
    DropReason,
    Link,
    MatchResult,
    MatchSettings,
    Reason,
    Signal,
    SourceKind,
    SourceRecord,
    Status,
    exclusion_key,
)

__all__ = [
    "FREE_MAIL_DOMAINS",
    "DropReason",
    "Link",
    "MatchResult",
    "MatchSettings",
    "PersonName",
    "Reason",
    "Signal",
    "SourceIndex",
    "SourceKind",
    "SourceRecord",
    "Status",
    "classify",
    "collector_paused",
    "compare_names",
    "exclusion_key",
    "is_automated_address",
    "is_free_mail_domain",
    "is_internal_address",
    "match_activity",
    "parse_person_name",
]
