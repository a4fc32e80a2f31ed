"""Every model module, imported so that Base.metadata holds every table.

Migrations, the test fixtures and anything else that needs the whole schema
import this module rather than warmline.models alone.
"""

import warmline.audit_models  # noqa: F401  (adds its tables to Base)
import warmline.change_counter  # noqa: F401  (adds its tables to Base)
import warmline.dropped_models  # noqa: F401  (adds its tables to Base)
import warmline.last_touch  # noqa: F401  (adds its tables to Base)
import warmline.learned_cadence  # noqa: F401  (adds its tables to Base)
import warmline.page_indexes  # noqa: F401  (adds indexes to core tables)
import warmline.placement_models  # noqa: F401  (adds its tables to Base)
import warmline.push_models  # noqa: F401  (adds its tables to Base)
import warmline.quota_models  # noqa: F401  (adds its tables to Base)
import warmline.remind.models  # noqa: F401  (adds its tables to Base)
import warmline.reminder_models  # noqa: F401  (adds its tables to Base)
import warmline.review_models  # noqa: F401  (adds its tables to Base)
import warmline.touch_counts  # noqa: F401  (adds its tables to Base)
import warmline.web_models  # noqa: F401  (adds its tables to Base)
import warmline.worker_models  # noqa: F401  (adds its tables to Base)
from warmline import models

Base = models.Base

__all__ = ["Base", "models"]
