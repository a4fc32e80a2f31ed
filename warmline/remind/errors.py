"""The error the reminder services raise for requests they cannot carry out."""


class ReminderError(ValueError):
    """A follow-up, referral or digest request cannot be carried out."""
