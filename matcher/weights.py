"""Scores that each signal contributes to a practice's confidence.

The values are chosen against the default thresholds in MatchSettings
(confirm at 0.85, review at 0.5).  One signal alone confirms only when it
leaves little doubt.  Such signals are an address listed on a source, the
domain of a single practice, a meeting title that names one practice or
one person, and a meeting at a practice's street address and suite.  A
display name alone never confirms, and evidence that fits two or three
practices goes to review.  Everything else confirms only together with a
second, independent signal.
Signals combine as 1 - product(1 - score) over the strongest score of each
signal kind, so two review-level signals such as 0.66 and 0.6 give 0.86.
"""

from __future__ import annotations

# An address listed on a provider, contact or practice.
ADDRESS = 0.97

# An unlisted address at the domain, or a subdomain, of exactly one practice.
DOMAIN = 0.9

# At a practice's domain, the display name matches a provider or contact
# there (times the name similarity).  Adds to the domain signal.
NAME_AT_DOMAIN = 0.8

# A display name that matches a provider or contact with no address or
# domain evidence, such as a provider writing from a personal Gmail
# address.  Patients write to therapists too, and may share a provider's
# name, so a name alone goes to review.  The score rises from NAME_ONLY_MIN
# at NAME_ONLY_MIN_SIMILARITY to NAME_ONLY_MAX at an exact match.
NAME_ONLY_MIN = 0.55
NAME_ONLY_MAX = 0.75
NAME_ONLY_MIN_SIMILARITY = 0.85
# "Dr." or a credential (MD, NP, PA-C) in the display name of a provider's
# name match makes it likelier to be that provider.  But another clinician
# of the same name signs the same way, so the score stays under
# NAME_ONLY_CAP, below the default confirm threshold.
NAME_ONLY_CLINICIAN_BONUS = 0.05
NAME_ONLY_CAP = 0.8

# Below this similarity a display name is no evidence for a person, even at
# the person's own practice domain ("Dr. Lopez" scores 0.7).
NAME_MIN_SIMILARITY = 0.7

# A name read from an RFC 5322 comment ("dana@x.example (Dana Wu)") or from
# an address's local part ("maria.lopez@") is less deliberate than a display
# name, so its name scores are multiplied by this.
WEAK_NAME_FACTOR = 0.9

# A meeting title or location that contains a practice's name scores
# TEXT_NAMES_PRACTICE times the square of the share of the name found, and
# nothing below TEXT_MIN_COVERAGE.  "Lakeside Ortho" for "Lakeside
# Orthopedic Associates" (0.91 of the weight) gives 0.66.  When one practice
# is named with at least TEXT_ONE_PRACTICE_MIN_COVERAGE of its name, and no
# other practice comes within TEXT_TIE of it, the score is
# TEXT_NAMES_ONE_PRACTICE, which confirms.
TEXT_NAMES_PRACTICE = 0.8
TEXT_MIN_COVERAGE = 0.75
TEXT_ONE_PRACTICE_MIN_COVERAGE = 0.85
TEXT_NAMES_ONE_PRACTICE = 0.9
TEXT_TIE = 0.1

# A meeting title that names a provider or contact: first name (or
# nickname or initial) and surname together, or "Dr." and the surname of a
# provider.  Either confirms when it names one person only; a name that
# fits people at two or three practices goes to review.
TITLE_FULL_NAME = 0.9
TITLE_DOCTOR_SURNAME = 0.88

# A meeting location that is a practice's street address, times the street
# comparison score (1.0 with the same suite, 0.85 when one side has none).
LOCATION_ADDRESS = 0.86

# A phone number of a source written in a meeting location or a subject.
PHONE = 0.8

# One piece of evidence that fits several practices equally, such as a
# health system's domain, a shared address or two providers of the same
# name.  Each practice's score is multiplied by AMBIGUOUS_FACTOR and capped at
# AMBIGUOUS_CAP, below the default confirm threshold, so that it goes to
# review.  Evidence that fits more than MAX_AMBIGUOUS_PRACTICES is dropped,
# because it cannot tell them apart.
AMBIGUOUS_FACTOR = 0.8
AMBIGUOUS_CAP = 0.6
MAX_AMBIGUOUS_PRACTICES = 3
