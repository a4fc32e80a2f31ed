"""Former home of the reminder services, kept so existing imports work.

The code lives in the `warmline.remind` package, split by area; import from
there in new code.
"""

from warmline.remind import *  # noqa: F403
from warmline.remind import __all__ as __all__
