"""Indexes that the review site's pages need on the core tables.

They are declared here, beside the core models rather than in them, and
created by migration 0017_web_page_indexes; warmline.schema imports this
module so that Base.metadata contains them.
"""

from sqlalchemy import Index

from warmline.models import Referral, ReferralSource, Touchpoint

# The review count in every page's navigation and the review queue.
TOUCHPOINT_WORKSPACE_STATUS = Index(
    "ix_touchpoint_workspace_status", Touchpoint.workspace_id, Touchpoint.status
)

# A practice's people on its source page, and their referrals per month.
REFERRAL_SOURCE_PRACTICE = Index(
    "ix_referral_source_practice_id", ReferralSource.practice_id
)
REFERRAL_SOURCE_DAY = Index(
    "ix_referral_source_id_received_on", Referral.source_id, Referral.received_on
)
