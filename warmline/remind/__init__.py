"""Reminders read from and written to the database: referrals, follow-ups, digests.

The rules live in the `reminders` package, which works on plain records.
This package gathers those records, applies the package's decisions and sends
the digests:

- `referrals`: `import_referrals` reads a referrals CSV file;
- `state`: the plain records (`load_state`) the rules judge;
- `cold`: the ranked list of sources going cold (`cold_sources`);
- `reminder_pass`: `run_reminders` closes the referrals and follow-ups that
  touchpoints resolved and creates the follow-ups due, idempotently;
- `followups`: listing, completing and snoozing follow-ups by hand;
- `coordination`: warnings when two staff members meet one practice close
  together;
- `feed`: each staff member's secret iCalendar feed of open follow-ups;
- `handover`: a leaving staff member's sources and open follow-ups to a
  colleague;
- `drafts` and `draft_rewrite`: drafted outreach emails, optionally
  rewritten by a language model;
- `digest` and `digest_send`: `send_digests` assembles each staff member's
  digest and sends it at most once per local date (see `DigestSend` for how
  a crash is survived).

Every function that writes takes a session and leaves the commit to its
caller, except `send_digests`, which commits its claim on a digest before
the message goes out.
"""

from warmline.remind.cold import cold_sources, ranked_cold
from warmline.remind.coordination import MeetingClash, meeting_clashes
from warmline.remind.digest import (
    FILE_PROVIDERS,
    SUBJECT_WIDTH,
    account_problem,
    assemble_digest,
    digest_moment,
    review_count,
)
from warmline.remind.digest_send import (
    SMTP_PASSWORD_SECRET,
    DigestOutcome,
    DigestRequest,
    Sender,
    local_today,
    send_digests,
    smtp_config,
    store_smtp_password,
    stored_smtp_password,
)
from warmline.remind.errors import ReminderError
from warmline.remind.followups import (
    FollowUpView,
    complete_follow_up,
    follow_up_basis,
    follow_up_views,
    snooze_follow_up,
)
from warmline.remind.referrals import (
    MAX_REFERRAL_ID,
    ReferralImportSummary,
    close_referral,
    import_referrals,
    loop_rows,
)
from warmline.remind.reminder_pass import RemindReport, run_reminders
from warmline.remind.state import (
    confirmed_touches,
    held_meetings,
    load_state,
    referral_records,
    reminder_policy,
    source_profiles,
    staff_emails,
    staff_zones,
    stored_follow_ups,
)

__all__ = [
    "FILE_PROVIDERS",
    "MAX_REFERRAL_ID",
    "SMTP_PASSWORD_SECRET",
    "SUBJECT_WIDTH",
    "DigestOutcome",
    "DigestRequest",
    "FollowUpView",
    "MeetingClash",
    "ReferralImportSummary",
    "RemindReport",
    "ReminderError",
    "Sender",
    "account_problem",
    "assemble_digest",
    "close_referral",
    "cold_sources",
    "complete_follow_up",
    "confirmed_touches",
    "digest_moment",
    "follow_up_basis",
    "follow_up_views",
    "held_meetings",
    "import_referrals",
    "load_state",
    "ranked_cold",
    "local_today",
    "loop_rows",
    "meeting_clashes",
    "referral_records",
    "reminder_policy",
    "review_count",
    "run_reminders",
    "send_digests",
    "smtp_config",
    "snooze_follow_up",
    "source_profiles",
    "staff_emails",
    "staff_zones",
    "store_smtp_password",
    "stored_follow_ups",
    "stored_smtp_password",
]
