"""A small workspace of referral sources shared by the matching tests."""

from __future__ import annotations

import functools

from matcher import SourceIndex, SourceRecord
from tests.matcher.factories import contact, practice, provider

RIVERSIDE = 1
LOPEZ = 2
ORTIZ = 3  # office manager
CHEN = 4
OBRIEN = 5

CEDAR = 20
NGUYEN = 21
PATEL_CEDAR = 22

LAKESIDE_ORTHO = 30
LAKESIDE_FM = 31
KIM = 32
PATEL_LAKESIDE = 33

NORTHGATE = 40
WU = 41

RIVERSIDE_PHONE = "+14047785234"
RIVERSIDE_STREET = "123 Main St. Ste 200, Springfield, IL 62701"
LAKESIDE_STREET = "800 Lake Shore Dr, Suite 310, Springfield, IL 62704"


def records() -> list[SourceRecord]:
    return [
        practice(
            RIVERSIDE,
            "Riverside Family Medicine",
            domains=("riverside-fm.example",),
            emails=("referrals@riverside-fm.example",),
            phones=(RIVERSIDE_PHONE,),
            address=RIVERSIDE_STREET,
        ),
        provider(
            LOPEZ,
            "Maria L. Lopez, MD",
            RIVERSIDE,
            emails=("maria.lopez@riverside-fm.example",),
        ),
        contact(
            ORTIZ, "Janet Ortiz", RIVERSIDE, emails=("jortiz@riverside-fm.example",)
        ),
        provider(CHEN, "Robert Chen, DO", RIVERSIDE),
        provider(OBRIEN, "Renee O'Brien, NP", RIVERSIDE),
        practice(CEDAR, "Cedar Internal Medicine", domains=("cedar-im.example",)),
        provider(
            NGUYEN, "Thao Nguyen, MD", CEDAR, emails=("thao.nguyen@cedar-im.example",)
        ),
        provider(PATEL_CEDAR, "Anil Patel, MD", CEDAR),
        practice(
            LAKESIDE_ORTHO,
            "Lakeside Orthopedics",
            domains=("lakeside-health.example",),
            address=LAKESIDE_STREET,
        ),
        practice(
            LAKESIDE_FM,
            "Lakeside Family Medicine",
            domains=("lakeside-health.example",),
        ),
        provider(KIM, "Sarah Kim, MD", LAKESIDE_FM),
        provider(PATEL_LAKESIDE, "Anil Patel, MD", LAKESIDE_ORTHO),
        practice(NORTHGATE, "Northgate Clinic", domains=("northgate-clinic.example",)),
        provider(WU, "Dana Wu, MD", NORTHGATE),
    ]


@functools.cache
def index() -> SourceIndex:
    """The shared index; tests must not change its records."""
    return SourceIndex(records())
