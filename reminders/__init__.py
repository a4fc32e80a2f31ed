"""Reminders: cadences, going cold, drift, open loops, follow-ups and digests.

Plain records in, plain results out: nothing here imports the database.
The core (warmline.remind) builds the records, applies the
decisions and sends the digests with `send_message`.
"""

from reminders import digest, sections
from reminders.cadence import Cadence, CadenceBasis, choose_cadence, learned_interval
from reminders.cold import ColdRelationship, Relationship, find_cold
from reminders.dates import next_working_day, snoozed_due_date
from reminders.drift import ReferralTrend, referral_trend
from reminders.followups import (
    ClosedBy,
    Closure,
    NewFollowUp,
    Plan,
    PlanInput,
    Reason,
    StoredFollowUp,
    plan_follow_ups,
    responsible_staff,
)
from reminders.health import (
    SourceHealth,
    assess_sources,
    cadence_label,
    health_flags,
    rank_cold,
)
from reminders.loops import OpenLoop, find_closings, open_loops
from reminders.mailer import (
    DeliveryError,
    DeliveryRejected,
    DeliveryUncertain,
    SmtpConfig,
    send_message,
)
from reminders.records import (
    DriftRule,
    Meeting,
    ReferralRecord,
    ReminderPolicy,
    SourceProfile,
    Touch,
)
from reminders.referral_rows import (
    REFERRAL_COLUMNS,
    DirectoryEntry,
    SourceDirectory,
    SourceQuery,
    parse_count,
    parse_date,
    patient_column,
)
from reminders.state import ReminderState

__all__ = [
    "REFERRAL_COLUMNS",
    "Cadence",
    "CadenceBasis",
    "ClosedBy",
    "Closure",
    "ColdRelationship",
    "DeliveryError",
    "DeliveryRejected",
    "DeliveryUncertain",
    "DirectoryEntry",
    "DriftRule",
    "Meeting",
    "NewFollowUp",
    "OpenLoop",
    "Plan",
    "PlanInput",
    "Reason",
    "ReferralRecord",
    "ReferralTrend",
    "Relationship",
    "ReminderPolicy",
    "ReminderState",
    "SmtpConfig",
    "SourceDirectory",
    "SourceHealth",
    "SourceProfile",
    "SourceQuery",
    "StoredFollowUp",
    "Touch",
    "assess_sources",
    "cadence_label",
    "choose_cadence",
    "digest",
    "find_closings",
    "find_cold",
    "health_flags",
    "learned_interval",
    "next_working_day",
    "open_loops",
    "parse_count",
    "parse_date",
    "patient_column",
    "plan_follow_ups",
    "rank_cold",
    "referral_trend",
    "responsible_staff",
    "sections",
    "send_message",
    "snoozed_due_date",
]
