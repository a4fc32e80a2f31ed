"""Every model module, imported so that Base.metadata holds every table.

Migrations, the test fixtures and anything else that needs the whole schema
import this module rather than warmline.models alone.
"""

from warmline import models

Base = models.Base

__all__ = ["Base", "models"]
