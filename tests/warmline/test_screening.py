"""Tests for subject screening and its figures on the labelled subject sets."""

from __future__ import annotations

import pytest

from benchmarks.bench_redaction import (
    HELD_OUT,
    SETS,
    WRITTEN_ON,
    load_subjects,
    score,
)
from warmline import screening
from warmline.screening import (
    ALLOWLIST_RULE,
    RULES,
    SubjectMode,
    find_identifiers,
    given_names,
    is_given_name,
    known_name_words,
    redact_subject,
    screen_subject,
    surnames,
)


@pytest.fixture(autouse=True)
def written_when_sets_were(monkeypatch: pytest.MonkeyPatch) -> None:
    """Judge dates as of the day the subjects here were written, as the bench does.

    Which dates count as dates of birth depends on the year a subject was
    written, so without this the expectations would change with the clock.
    """
    monkeypatch.setattr(screening, "_today", lambda: WRITTEN_ON)


# (rule that the case is about, subject, expected subject after redaction)
REDACTED_SUBJECTS = [
    # birth date after a cue, in every written form
    (
        "birth date after cue",
        "RE: patient Jane Doe DOB 04/12/1961",
        "RE: patient [redacted] DOB [redacted]",
    ),
    (
        "birth date after cue",
        "DOB: Apr 12, 1961 - eval scheduled",
        "DOB: [redacted] - eval scheduled",
    ),
    (
        "birth date after cue",
        "Referral, D.O.B. 1961-04-12",
        "Referral, D.O.B. [redacted]",
    ),
    (
        "birth date after cue",
        "New referral (dob 4-12-61)",
        "New referral (dob [redacted])",
    ),
    (
        "birth date after cue",
        "Intake question, date of birth 12 April 1961",
        "Intake question, date of birth [redacted]",
    ),
    (
        "birth date after cue",
        "Eval request DOB 04121961",
        "Eval request DOB [redacted]",
    ),
    ("birth date after cue", "Knee OA, DOB 1961", "Knee OA, DOB [redacted]"),
    (
        "birth date after cue",
        "Peds referral DOB 03/02/2016",
        "Peds referral DOB [redacted]",
    ),
    (
        "birth date after cue",
        "Fax cover: birthdate 12-Apr-1961",
        "Fax cover: birthdate [redacted]",
    ),
    (
        "birth date after cue",
        "DOB=4.12.61 per front desk",
        "DOB=[redacted] per front desk",
    ),
    (
        "birth date after cue",
        "Post-op knee, born on Sept. 3rd, 1958",
        "Post-op knee, born on [redacted]",
    ),
    (
        "birth date after cue",
        "D.O.B: April 1961 missing on order",
        "D.O.B: [redacted] missing on order",
    ),
    # social security numbers
    (
        "SSN after cue",
        "SSN 123-45-6789 needed for auth",
        "SSN [redacted] needed for auth",
    ),
    ("SSN after cue", "Billing: SS# 123456789", "Billing: SS# [redacted]"),
    ("SSN after cue", "Last 4 of SSN: 6789", "Last 4 of SSN: [redacted]"),
    (
        "SSN after cue",
        "social security number xxx-xx-6789 on file",
        "social security number [redacted] on file",
    ),
    ("SSN", "Form missing 123-45-6789", "Form missing [redacted]"),
    ("SSN", "Corrected claim 123 45 6789", "Corrected claim [redacted]"),
    # medical record and account numbers
    ("medical record number", "MRN 00482913 follow-up", "MRN [redacted] follow-up"),
    (
        "medical record number",
        "MR# 482913 - plan of care signed",
        "MR# [redacted] - plan of care signed",
    ),
    ("medical record number", "Records for MRN:00918233", "Records for MRN:[redacted]"),
    (
        "medical record number",
        "Chart # 55120 missing note",
        "Chart # [redacted] missing note",
    ),
    (
        "medical record number",
        "Med rec no. 448213 request",
        "Med rec no. [redacted] request",
    ),
    (
        "medical record number",
        "Record #77031 - discharge summary",
        "Record #[redacted] - discharge summary",
    ),
    ("medical record number", "Balance on acct 4412", "Balance on acct [redacted]"),
    (
        "medical record number",
        "Account number 0098-441 statement",
        "Account number [redacted] statement",
    ),
    (
        "medical record number",
        "Medical record number A-99812 request",
        "Medical record number [redacted] request",
    ),
    ("medical record number", "mrn 1182734 / pt eval", "mrn [redacted] / pt eval"),
    # insurance member ids
    (
        "insurance member id",
        "Auth needed, member ID ABC123456",
        "Auth needed, member ID [redacted]",
    ),
    (
        "insurance member id",
        "Medicare ID 1EG4-TE5-MK73 eligibility",
        "Medicare ID [redacted] eligibility",
    ),
    ("insurance member id", "Subscriber ID: W123456789", "Subscriber ID: [redacted]"),
    ("insurance member id", "Policy # 99812-A denied", "Policy # [redacted] denied"),
    (
        "insurance member id",
        "MBI 1EG4TE5MK73 on referral",
        "MBI [redacted] on referral",
    ),
    (
        "insurance member id",
        "Medicaid # IL4438812 verification",
        "Medicaid # [redacted] verification",
    ),
    (
        "insurance member id",
        "ins ID XJH88123 - copay question",
        "ins ID [redacted] - copay question",
    ),
    # full dates from before 2010 with no cue
    ("bare birth date", "Eval scheduled, 04/12/1961", "Eval scheduled, [redacted]"),
    ("bare birth date", "4-12-61 knee referral", "[redacted] knee referral"),
    ("bare birth date", "Order dated 1958-07-02", "Order dated [redacted]"),
    ("bare birth date", "Hip OA - Apr 12, 1961", "Hip OA - [redacted]"),
    ("bare birth date", "12 April 1961 / ankle sprain", "[redacted] / ankle sprain"),
    ("bare birth date", "Shoulder eval 7.2.58", "Shoulder eval [redacted]"),
    # a name after "patient" or "pt"
    (
        "name after patient",
        "Pt J. Doe - PT eval request",
        "Pt [redacted] - PT eval request",
    ),
    ("name after patient", "patient Nakamura no-show", "patient [redacted] no-show"),
    (
        "name after patient",
        "Patient: Doe, Jane - plan of care",
        "Patient: [redacted] - plan of care",
    ),
    (
        "name after patient",
        "pt. Maria Gonzalez Ruiz cancelled",
        "pt. [redacted] cancelled",
    ),
    (
        "name after patient",
        "Question about patient Renée Dubois",
        "Question about patient [redacted]",
    ),
    (
        "name after patient",
        "Patient name: Kathleen O'Neil",
        "Patient name: [redacted]",
    ),
    (
        "name after patient",
        "Your patient Tom Becker is scheduled",
        "Your patient [redacted] is scheduled",
    ),
    ("name after patient", "pt McAllister Referral", "pt [redacted] Referral"),
    (
        "name after patient",
        "RE: Pt Anna Kim-Lund progress note",
        "RE: Pt [redacted] progress note",
    ),
    # a name after Mr., Mrs., Ms., Mx. or Miss
    (
        "name after honorific",
        "Referral for Mr. Nakamura",
        "Referral for Mr. [redacted]",
    ),
    (
        "name after honorific",
        "Referral for Mrs. Doe - knee OA",
        "Referral for Mrs. [redacted] - knee OA",
    ),
    (
        "name after honorific",
        "Ms. Alvarez rescheduled to Tuesday",
        "Ms. [redacted] rescheduled to Tuesday",
    ),
    (
        "name after honorific",
        "Thank-you card from Mr. and Mrs. Lindqvist",
        "Thank-you card from Mr. and Mrs. [redacted]",
    ),
    ("name after honorific", "Mx. Jordan Reyes intake", "Mx. [redacted] intake"),
    (
        "name after honorific",
        "Records request - Miss Becker",
        "Records request - Miss [redacted]",
    ),
    # a name after "re:", "referral for" and similar cues
    ("name after referral cue", "RE: Jane Doe", "RE: [redacted]"),
    ("name after referral cue", "Referral for Robert Hale", "Referral for [redacted]"),
    (
        "name after referral cue",
        "New referral: Tom Becker, DOB 7/2/58",
        "New referral: [redacted], DOB [redacted]",
    ),
    (
        "name after referral cue",
        "Plan of care for J. Whitaker - signature needed",
        "Plan of care for [redacted] - signature needed",
    ),
    (
        "name after referral cue",
        "Regarding Lopez, Maria (knee)",
        "Regarding [redacted] (knee)",
    ),
    ("name after referral cue", "Update on Harold Finch", "Update on [redacted]"),
    ("name after referral cue", "Eval for Anna Kim-Lund", "Eval for [redacted]"),
    (
        "name after referral cue",
        "Referral - Jane Doe, DOB 4/12/61",
        "Referral - [redacted], DOB [redacted]",
    ),
    (
        "name after referral cue",
        "Follow-up for Dana Whitfield",
        "Follow-up for [redacted]",
    ),
    (
        "name after referral cue",
        "Appt for Marcus O'Neil rescheduled",
        "Appt for [redacted] rescheduled",
    ),
    (
        "name after referral cue",
        "Discharge summary for Ella Brandt",
        "Discharge summary for [redacted]",
    ),
    (
        "name after referral cue",
        "Auth for Leo Martins approved",
        "Auth for [redacted] approved",
    ),
    (
        "name after referral cue",
        "Re: Plan of care for Jane Doe - signature needed",
        "Re: Plan of care for [redacted] - signature needed",
    ),
    # a name next to an identifier, or before a visit word
    (
        "name beside identifier",
        "Chen Szymanski DOB 6/10/19 MRN A81860",
        "[redacted] DOB [redacted] MRN [redacted]",
    ),
    (
        "name beside identifier",
        "Oduya, Aisha DOB Jan 1, 1963",
        "[redacted] DOB [redacted]",
    ),
    (
        "name beside identifier",
        "Subscriber ID AZ536138616 - Lena Doe",
        "Subscriber ID [redacted] - [redacted]",
    ),
    (
        "name before visit word",
        "Noah Fitzgerald eval scheduled 2/11",
        "[redacted] eval scheduled 2/11",
    ),
    # patients' phone numbers
    (
        "phone after patient cue",
        "Please call pt at (630) 555-0143",
        "Please call pt at [redacted]",
    ),
    ("phone after patient cue", "Pt phone # 630.555.0140", "Pt phone # [redacted]"),
    (
        "phone after patient cue",
        "Voicemail from patient, callback 6305550160",
        "Voicemail from patient, callback [redacted]",
    ),
    (
        "phone beside patient",
        "Mrs. Okafor called, cb +1 630 555 0150",
        "Mrs. [redacted] called, cb [redacted]",
    ),
    (
        "phone beside patient",
        "Mother of pt Aisha Haddad called - 6305550170",
        "Mother of pt [redacted] called - [redacted]",
    ),
    # payer ids and a chart number without a "#"
    (
        "insurance member id",
        "Cigna ID KBK337393829 eligibility check",
        "Cigna ID [redacted] eligibility check",
    ),
    (
        "insurance member id",
        "UHC denial - Marcus Brandt, member MZZ913044491",
        "UHC denial - [redacted], member [redacted]",
    ),
    (
        "medical record number",
        "Chart 6093671 progress note",
        "Chart [redacted] progress note",
    ),
    (
        "name after referral cue",
        "f/u Lena Fitzgerald post-op wk 2",
        "f/u [redacted] post-op wk 2",
    ),
    (
        "name after referral cue",
        "FW: Ama Finch - neck pain",
        "FW: [redacted] - neck pain",
    ),
    # several identifiers in one subject
    (
        "medical record number",
        "RE: patient John Roe, MRN 00482913, DOB 11/30/1955",
        "RE: patient [redacted], MRN [redacted], DOB [redacted]",
    ),
    (
        "insurance member id",
        "Fwd: Mrs. Haddad member ID ZQ4471920 / SSN 123-45-6789",
        "Fwd: Mrs. [redacted] member ID [redacted] / SSN [redacted]",
    ),
    # papers named between the cue and "for"
    (
        "name after referral cue",
        "Intake paperwork for Tobias Renner",
        "Intake paperwork for [redacted]",
    ),
    (
        "name after referral cue",
        "Fax: records request for Nell Ashby",
        "Fax: records request for [redacted]",
    ),
    # a place word after a known given name is a surname
    ("name after referral cue", "Re: Jenny Park", "Re: [redacted]"),
    # names written in lower case
    (
        "lower-case name after cue",
        "patient jane doe",
        "patient [redacted]",
    ),
    (
        "lower-case name after cue",
        "pt john smith called back",
        "pt [redacted] called back",
    ),
    (
        "lower-case name after cue",
        "re: maria lopez follow up",
        "re: [redacted] follow up",
    ),
    (
        "lower-case name after honorific",
        "spoke with mr. halloran today",
        "spoke with mr. [redacted] today",
    ),
    # a topic word, then a colon or dash, then the name
    (
        "name after referral cue",
        "Progress notes - Odile Fournier",
        "Progress notes - [redacted]",
    ),
    (
        "name after referral cue",
        "Visits approved for Caspar Lindgren",
        "Visits approved for [redacted]",
    ),
    (
        "lower-case name after label",
        "pt name: rowan ellery",
        "pt name: [redacted]",
    ),
    (
        "name in surname-first form",
        "Kowalski, Irene - knee replacement",
        "[redacted] - knee replacement",
    ),
    # a name that starts with a known given name, with no cue
    (
        "name with a given name",
        "Gloria Whitcombe - home program questions",
        "[redacted] - home program questions",
    ),
    # given names from other languages, in Faker's lists
    (
        "name with a given name",
        "Chiamaka Uzor - new pt packet",
        "[redacted] - new pt packet",
    ),
    (
        "name with a given name",
        "Stanisław Nowak - x-ray report attached",
        "[redacted] - x-ray report attached",
    ),
    (
        "name with a given name",
        "Stanislaw Nowak - x-ray report attached",
        "[redacted] - x-ray report attached",
    ),
    # "Oksana" is in Faker's uk_UA list in Cyrillic only
    (
        "name with a given name",
        "Oksana Hrytsenko - knee eval",
        "[redacted] - knee eval",
    ),
    (
        "name in surname-first form",
        "Bui, Thanh - eval request",
        "[redacted] - eval request",
    ),
    (
        "name with a given name",
        "Folasade Ogunleye cleared to return to work",
        "[redacted] cleared to return to work",
    ),
    (
        "name after referral cue",
        "Update - Kalani Akana transferred to Naperville clinic",
        "Update - [redacted] transferred to Naperville clinic",
    ),
    (
        "name after referral cue",
        "Insurance card for Bongani Zulu expired",
        "Insurance card for [redacted] expired",
    ),
    # particles, lower-case hyphen parts and surname endings
    (
        "name after referral cue",
        "Re: Marisol de la Cruz - eval paperwork",
        "Re: [redacted] - eval paperwork",
    ),
    (
        "name with a given name",
        "Pieter van der Berg PT order",
        "[redacted] PT order",
    ),
    (
        "name with a given name",
        "Min-jun Lee - wrist eval",
        "[redacted] - wrist eval",
    ),
    (
        "name with a given name",
        "Yerlan Abenov - lumbar fusion referral",
        "[redacted] - lumbar fusion referral",
    ),
    # a surname alone in a reply
    (
        "surname alone after reply cue",
        "Re: Collins - need updated order",
        "Re: [redacted] - need updated order",
    ),
    ("surname alone after reply cue", "RE: Soto", "RE: [redacted]"),
    (
        "surname alone after reply cue",
        "Re: Abernathy-Cole - POC signature",
        "Re: [redacted] - POC signature",
    ),
    # the last four digits of a number
    (
        "last four digits",
        "SSN ending 6615 - billing",
        "SSN ending [redacted] - billing",
    ),
    (
        "last four digits",
        "Acct ending in x4412 - statement",
        "Acct ending in [redacted] - statement",
    ),
    (
        "last four digits",
        "Member ID ending 7734 denied",
        "Member ID ending [redacted] denied",
    ),
    ("last four digits", "SSN last 4 2291", "SSN last 4 [redacted]"),
    ("last four digits", "last 4 of SSN: 2291", "last 4 of SSN: [redacted]"),
    (
        "last four digits",
        "last four of pt's member ID 5521",
        "last four of pt's member ID [redacted]",
    ),
    # a phone number in a subject about a patient
    (
        "phone beside patient",
        "Patient called from (312) 555-0117",
        "Patient called from [redacted]",
    ),
    # a Medicare Beneficiary Identifier without a cue
    (
        "Medicare beneficiary identifier",
        "Medicare 1EG4-TE5-MK73 auth",
        "Medicare [redacted] auth",
    ),
    (
        "Medicare beneficiary identifier",
        "new card 7AC2HJ4KM61 on file",
        "new card [redacted] on file",
    ),
    # unlisted names that open a subject before a word of care
    (
        "name at subject start",
        "Tadesse Worku referred by Dr. Hale",
        "[redacted] referred by Dr. Hale",
    ),
    (
        "name at subject start",
        "Fwd: Abebe Girma - knee pain",
        "Fwd: [redacted] - knee pain",
    ),
    (
        "name at subject start",
        "Seo-yeon Kang follow up visit",
        "[redacted] follow up visit",
    ),
    (
        "name at subject start",
        "Nguyen Van An PT referral",
        "[redacted] PT referral",
    ),
    (
        "name at subject start",
        "Ikenna Obiora's MRI results",
        "[redacted]'s MRI results",
    ),
    (
        "name at subject start",
        "Adeyinka, Tolu - auth request",
        "[redacted] - auth request",
    ),
    (
        "name at subject start",
        "RE: Mbatha, Sipho: progress note",
        "RE: [redacted]: progress note",
    ),
    # unlisted names that end a subject about care, or stand in parentheses
    (
        "name at subject end",
        "Eval tomorrow - Tadesse Worku",
        "Eval tomorrow - [redacted]",
    ),
    (
        "name at subject end",
        "No-show today: Abebe Girma",
        "No-show today: [redacted]",
    ),
    (
        "name in parentheses",
        "Cancellation (Oluwaseun Adebayo)",
        "Cancellation ([redacted])",
    ),
    # a given name before "'s" and a word of care
    (
        "given name before possessive",
        "Maria's eval moved to Friday",
        "[redacted]'s eval moved to Friday",
    ),
    (
        "given name before possessive",
        "Re: Keisha's progress note",
        "Re: [redacted]'s progress note",
    ),
    # a surname that is a common English word, after a strong cue
    ("name after honorific", "Mrs. Temple called", "Mrs. [redacted] called"),
    ("name after patient", "pt John Parish - knee", "pt [redacted] - knee"),
    # names in capitals
    ("name in capitals", "JOHN SMITH EVAL", "[redacted] EVAL"),
    ("name in capitals", "Re: MARIA GONZALEZ - MRI", "Re: [redacted] - MRI"),
    ("name in capitals", "PATIENT JANE DOE", "PATIENT [redacted]"),
]

HARMLESS_SUBJECTS = [
    # organisations, events and contacts after "Re:"
    "Re: Marquette Bank deposit",
    "Re: Greek Orthodox church health fair",
    "Re: Lincoln Park Zoo 5K sponsorship",
    # capitalised words before a word of care that are no name
    "Medicare Advantage auth changes",
    "Kinesio Tape follow up order",
    "Check-in kiosk down",
    "Pre-op class schedule",
    "Co-pay collection",
    # possessives and capitals that are no name
    "Monday's eval list",
    "Dr. Patel's referral pads",
    "Will's eval templates",
    "PT EVAL TEMPLATE",
    "BCBS PPO AUTH",
    "Lunch 3/14",
    "Lunch w/ Dr. Patel",
    "Drop off brochures - Lakeside Ortho",
    "Re: Maple Grove Pediatrics lunch",
    "Update on Summit Sports Med",
    "Patient Portal message",
    "PT Referral form updated",
    "Progress note - initial evaluation",
    "Lunch-and-learn 3/14/2026",
    "Re: Holiday hours",
    "Referral for Dr. Anil Patel's patient",
    "Q3 referral numbers",
    "Chicago, IL - new location",
    "Morton Arboretum team walk",
    "Meeting 11/5 at 12:30",
    "Riverside Family Medicine holiday schedule",
    "Re: Riverside Family Medicine",
    "Fwd: Northgate Clinic new fax number",
    "Thanks for the referrals this month!",
    "Plan of care for signature",
    "Saturday hours start 1/9/26",
    "Webinar Oct 8, 2026: low back pain pathways",
    "Member ID cards for staff",
    "Account setup for the new portal",
    "Re: Dr. O'Brien's availability",
    "Record of lunch attendance",
    "Re: Weekly huddle with Ridgeway Ortho",
    "Dr. Maria L. Lopez - referral pads",
    "Office closed 7/3 - 7/5",
    "Appt for 10 am confirmed",
    "Patient satisfaction survey results",
    "Re: Harbor Point Urgent Care open house",
    "Re: Anil Patel, MD referral question",
    "Re: Thao Nguyen NP availability",
    "FW: Prairie View Family Practice lunch",
    "Member ID cards for staff 2026",
    "Re: Prairie View",
    "pt will call back",
    "patient portal down tonight",
    "re: lunch for the front desk",
    "Re: Marta Jensen, office manager",
    "Rescheduled to Monday",
    "Lopez, Maria MD - new referral pads",
    "Dr. Helen Marsh - referral pads",
    "Will Rogers Elementary health fair",
    # given names that are also words, places or company names
    "Re: Wheaton Chamber of Commerce breakfast",
    "Re: Plainfield Township festival",
    "Re: Sunrise Senior Living presentation",
    "Re: Glen Ellyn Park District partnership",
    "Re: Alaska trip",
    "Re: Year-end Party",
    # numbers and single words that are not identifiers
    "Meeting ends at 4pm",
    "Order ending 2024 batch",
    "Re: Chicago",
    "Re: Invoice - overdue",
    "",
]


# Harmless subjects that lose words under the allowlist.  Each word on a
# name list or rare in English is redacted, whatever it names ("Grant
# Street", "Northgate").  So is each number with three or more digits that
# is not a time or a recent date (a practice's phone, an invoice number).
ALLOWLIST_LOSSES = [
    (
        "Re: Advocate Aurora lunch and learn",
        "Re: Advocate [redacted] lunch and learn",
    ),
    ("Re: Stanley Cup watch party", "Re: [redacted] Cup watch party"),
    ("Re: Jackson Hewitt tax docs", "Re: [redacted] tax docs"),
    ("Re: Kane County Cougars night", "Re: Kane County [redacted] night"),
    (
        "Re: Good Samaritan case management",
        "Re: [redacted] Samaritan case management",
    ),
    ("Re: Melissa Grant - lunch order", "Re: [redacted] - lunch order"),
    ("Silver Cross referral packet", "[redacted] referral packet"),
    ("Rush Copley referral", "[redacted] referral"),
    ("Thanks, Maria - lunch order", "Thanks, [redacted] - lunch order"),
    ("Hi, Karen - schedule", "Hi, [redacted] - schedule"),
    ("Auth request - Blue Cross", "Auth request - Blue [redacted]"),
    ("New eval slots (Oak Brook)", "New eval slots ([redacted])"),
    ("Auth (Blue Cross Blue Shield)", "Auth (Blue [redacted] Blue Shield)"),
    ("KANE COUNTY FAIR", "[redacted] COUNTY FAIR"),
    ("Invoice 1EG4-TE5 MK73", "Invoice [redacted]"),
    (
        "New patients welcome at Brookside",
        "New patients welcome at [redacted]",
    ),
    ("Call me at 630-555-0142", "Call me at [redacted]"),
    ("Invoice 2026-0412", "Invoice [redacted]"),
    ("RE: Spring Lunch", "RE: [redacted] Lunch"),
    (
        "Fwd: Northgate Clinic new fax (630) 555-0111",
        "Fwd: Northgate Clinic new fax [redacted]",
    ),
    ("Re: Maple Hills office move", "Re: Maple [redacted] office move"),
    ("PT clinic phone 630-555-0142", "PT clinic phone [redacted]"),
    ("Re: Lincoln Square parking", "Re: [redacted] Square parking"),
    ("Grant Street office closed", "[redacted] office closed"),
    ("Sterling Silver sponsor package", "[redacted] sponsor package"),
    ("Victoria Day closure", "[redacted] Day closure"),
    ("Mercy Health Partners lunch", "[redacted] Health Partners lunch"),
    ("Golden Hour sunset social", "[redacted] Hour sunset social"),
    ("Jordan from ProMed - tablets", "[redacted] from [redacted] - tablets"),
    ("Re: Linden Park schedule change", "Re: [redacted] schedule change"),
    ("Johnson Controls HVAC", "[redacted] Controls HVAC"),
    ("Martin Luther King Day closure", "[redacted] Day closure"),
    ("Ronald McDonald House donation", "[redacted] House donation"),
    ("Rush Copley outreach visit", "[redacted] outreach visit"),
    ("Re: Kevin - lunch order", "Re: [redacted] - lunch order"),
]


@pytest.mark.parametrize(("rule", "subject", "expected"), REDACTED_SUBJECTS)
def test_redact_subject_identifier(rule: str, subject: str, expected: str) -> None:
    result = redact_subject(subject)

    assert result == expected, f"rule {rule!r}"


@pytest.mark.parametrize("subject", HARMLESS_SUBJECTS)
def test_redact_subject_keeps_harmless(subject: str) -> None:
    result = redact_subject(subject)

    assert result == subject


@pytest.mark.parametrize(("subject", "expected"), ALLOWLIST_LOSSES)
def test_redact_subject_allowlist_loss(subject: str, expected: str) -> None:
    result = redact_subject(subject)

    assert result == expected


def test_cases_cover_every_rule() -> None:
    covered = {rule for rule, _subject, _expected in REDACTED_SUBJECTS}

    missing = {rule.name for rule in RULES} - covered

    assert not missing, f"no test case for rules {sorted(missing)}"


def test_case_table_size() -> None:
    assert len(REDACTED_SUBJECTS) >= 60
    assert len(HARMLESS_SUBJECTS) >= 20


def test_screen_subject_default_keeps_nothing() -> None:
    result = screen_subject("MRN 00482913 follow-up")

    assert result is None


def test_screen_subject_redact_mode() -> None:
    result = screen_subject("MRN 00482913 follow-up", SubjectMode.REDACT)

    assert result == "MRN [redacted] follow-up"


def test_screen_subject_metadata_returns_none() -> None:
    result = screen_subject("MRN 00482913 follow-up", SubjectMode.METADATA)

    assert result is None


def test_screen_subject_full_keeps_subject() -> None:
    subject = "RE: patient Jane Doe DOB 04/12/1961"

    result = screen_subject(subject, SubjectMode.FULL)

    assert result == subject


@pytest.mark.parametrize("mode", list(SubjectMode))
def test_screen_subject_none_stays_none(mode: SubjectMode) -> None:
    assert screen_subject(None, mode) is None


def test_subject_mode_values() -> None:
    assert [mode.value for mode in SubjectMode] == ["metadata", "redact", "full"]
    assert SubjectMode("redact") is SubjectMode.REDACT


@pytest.mark.parametrize("stored", ["drop", "DROP", " metadata "])
def test_subject_mode_reads_old_drop(stored: str) -> None:
    assert SubjectMode(stored) is SubjectMode.METADATA
    assert SubjectMode.DROP is SubjectMode.METADATA


def test_subject_mode_rejects_unknown() -> None:
    with pytest.raises(ValueError, match="'hide'"):
        SubjectMode("hide")


def test_find_identifiers_offsets_in_subject() -> None:
    subject = "Referral - Jane Doe, DOB 4/12/61"

    spans = find_identifiers(subject)

    assert [subject[span.start : span.end] for span in spans] == [
        "Jane Doe",
        "4/12/61",
    ]
    assert [span.rule for span in spans] == [
        "name after referral cue",
        "birth date after cue",
    ]


def test_labelled_set_target() -> None:
    result = score(load_subjects("subjects.jsonl"))

    assert result.subjects >= 300
    assert result.recall >= 0.98, result.misses
    assert result.loss_rate <= 0.06, result.losses


def test_held_out_set_floor() -> None:
    result = score(load_subjects("heldout.jsonl"))

    assert result.recall >= 0.9, result.misses
    assert result.loss_rate <= 0.06, result.losses


def test_newest_held_out_set_floor() -> None:
    # Measured once with the round 7 rules, before any change had seen this
    # set: they caught 33 of 37 identifiers (89.2%) and lost 17 of 245
    # harmless words, most of them names of organisations after "Re:".
    # The round 8 rules were changed after those misses.  The floor fails a
    # change that does worse than that first measurement.
    result = score(load_subjects("heldout8.jsonl"))

    assert result.subjects >= 60
    assert result.recall >= 0.85, result.misses
    assert result.loss_rate <= 0.10, result.losses


def test_allowlist_held_out_set_target() -> None:
    # The pattern rules alone caught 218 of 314 identifiers (69.4%) here.
    # The allowlist pass was then tuned on this set's misses and losses, so
    # its figures (314 of 314, 7.9% of harmless words lost) are an upper
    # bound, not an estimate for unseen subjects.
    result = score(load_subjects("heldout9.jsonl"))

    assert result.subjects >= 300
    assert result.recall >= 0.98, result.misses
    assert result.loss_rate <= 0.10, result.losses


def test_blind_held_out_set_floor() -> None:
    # Written by an author who saw neither the rules nor any other set, and
    # measured once with the allowlist pass before any change had seen it:
    # 251 of 263 identifiers (95.4%) redacted, 172 of 1,954 harmless words
    # (8.8%) lost.  The floor fails a change that does worse than that.
    result = score(load_subjects("heldout10.jsonl"))

    assert result.subjects >= 300
    assert result.recall >= 0.954, result.misses
    assert result.loss_rate <= 0.09, result.losses


def test_newest_blind_set_floor() -> None:
    # Written by a third author, for another region, who saw neither the
    # rules nor any other set.  Measured once with the round 11 rules: 380
    # of 387 identifiers (98.2%) redacted, 273 of 2,411 harmless words
    # (11.3%) lost.
    result = score(load_subjects("heldout11.jsonl"))

    assert result.subjects >= 400
    assert result.recall >= 0.98, result.misses
    assert result.loss_rate <= 0.12, result.losses


def test_previous_held_out_set_floor() -> None:
    result = score(load_subjects("heldout7.jsonl"))

    assert result.recall >= 0.95, result.misses
    assert result.loss_rate <= 0.08, result.losses


def test_given_names_loaded_once() -> None:
    names = given_names()

    assert isinstance(names, frozenset)
    assert given_names() is names
    assert len(names) > 15_000


@pytest.mark.parametrize(
    "name", ["Kwame", "Adaeze", "Chiamaka", "Priya", "Eamon", "Renée", "Renee"]
)
def test_given_names_other_languages(name: str) -> None:
    assert is_given_name(name)


def test_given_names_transliterated() -> None:
    assert is_given_name("Oksana")


def test_surnames_loaded() -> None:
    names = surnames()

    assert isinstance(names, frozenset)
    assert "soto" in names
    assert "chicago" not in names


def test_all_held_out_sets_floor() -> None:
    rows = [row for name in HELD_OUT for row in load_subjects(name)]

    result = score(rows)

    assert result.subjects >= 500
    assert result.recall >= 0.95, result.misses
    assert result.loss_rate <= 0.09, result.losses


def test_labelled_set_covers_every_kind() -> None:
    kinds = {
        identifier["kind"]
        for row in load_subjects("subjects.jsonl")
        for identifier in row["identifiers"]  # type: ignore[attr-defined]
    }

    assert kinds >= {
        "birth_date",
        "record_number",
        "account_number",
        "phone",
        "patient_name",
        "member_id",
    }


def test_labelled_spans_match_text() -> None:
    for name in SETS:
        for row in load_subjects(name):
            subject = str(row["subject"])
            for identifier in row["identifiers"]:  # type: ignore[attr-defined]
                start, end = identifier["start"], identifier["end"]
                assert subject[start:end] == identifier["text"], (name, subject)


def test_redact_subject_lower_case_name() -> None:
    assert redact_subject("patient jane doe") == "patient [redacted]"


def test_redact_subject_bare_place_name() -> None:
    assert redact_subject("Re: Prairie View") == "Re: Prairie View"


def test_redact_subject_capitals_name() -> None:
    assert redact_subject("PATIENT JANE DOE") == "PATIENT [redacted]"


def test_redact_subject_contact_before_business_word() -> None:
    # The allowlist redacts every name that no credential, role or "Dr."
    # marks as a provider's, so a colleague's name is lost too.
    subject = "Re: Kevin Doyle - lunch order"

    assert redact_subject(subject) == "Re: [redacted] - lunch order"


@pytest.mark.xfail(
    reason="a practice contact's name with no role or credential after it is "
    "on no allowlist, so it is redacted as if it were a patient's",
    strict=True,
)
def test_redact_subject_contact_name() -> None:
    subject = "Re: Marcus Lee from Oak Ridge Family Practice"

    assert redact_subject(subject) == subject


def test_redact_subject_unlisted_given_name() -> None:
    # "Juniper" is on no given-name list, but "Hale" is a known surname.
    subject = "Juniper Hale - x-ray report attached"

    assert redact_subject(subject) == "[redacted] - x-ray report attached"


def test_redact_subject_unlisted_name_at_start() -> None:
    subject = "Kalani Akana asked about parking"

    assert redact_subject(subject) == "[redacted] asked about parking"


ROUND_11_REDACTED = [
    ("Will Bishop d/c to HEP", "[redacted] d/c to HEP"),
    ("ingrid solberg re-eval done", "[redacted] re-eval done"),
    ("grant lewandowski billing question", "[redacted] billing question"),
    ("records for simmons went out", "records for [redacted] went out"),
    ("Re: chen appt", "Re: [redacted] appt"),
    ("school forms (santos) on your desk", "school forms ([redacted]) on your desk"),
    ("zulu, bongani ORIF hardware removal", "[redacted] ORIF hardware removal"),
    (
        "sched: minh hoang canx remaining visits",
        "sched: [redacted] canx remaining visits",
    ),
    ("R. Venkataraman progress note", "[redacted] progress note"),
    ("A. Brooks final bill", "[redacted] final bill"),
    ("Paolo Santos 8/14/2012 - knee pain", "[redacted] - knee pain"),
    ("Knee pain since 3/14/2019", "Knee pain since [redacted]"),
]


@pytest.mark.parametrize(("subject", "expected"), ROUND_11_REDACTED)
def test_redact_subject_round_11_kinds(subject: str, expected: str) -> None:
    result = redact_subject(subject)

    assert result == expected


ROUND_11_KEPT = [
    "Lunch moved to 3/14/2027",
    "Naperville site opening - ribbon cutting 3/2",
    "Lunch w/ Dr. Goldstein - Evanston Primary Care",
    "Parking lot closed Monday",
    "Re: Alejandro's w/c case mgr never called back",
    "PT guarantor acct question",
]


@pytest.mark.parametrize("subject", ROUND_11_KEPT)
def test_redact_subject_round_11_keeps(subject: str) -> None:
    result = redact_subject(subject)

    if subject.startswith("Re: Alejandro"):
        assert result == "Re: [redacted]'s w/c case mgr never called back"
    else:
        assert result == subject


def test_known_names_keep_source_words() -> None:
    known = known_name_words(["Okafor & Partners Internal Medicine", "Janet Ortiz"])
    subject = "Pads for Janet Ortiz at Okafor & Partners - patient Jane Doe"

    result = redact_subject(subject, known)

    assert result == "Pads for Janet Ortiz at Okafor & Partners - patient [redacted]"


def test_known_names_empty_redacts_sources() -> None:
    subject = "Pads for Janet Ortiz at Okafor & Partners"

    result = redact_subject(subject)

    assert result == "Pads for [redacted] at [redacted] & Partners"


def test_screen_subject_passes_known_names() -> None:
    known = known_name_words(["Janet Ortiz"])

    result = screen_subject("Lunch w/ Janet Ortiz", SubjectMode.REDACT, known)

    assert result == "Lunch w/ Janet Ortiz"


def test_redact_subject_unlisted_name_in_middle() -> None:
    subject = "Spoke with Kalani Akana about parking"

    assert redact_subject(subject) == "Spoke with [redacted] about parking"


def test_redact_subject_romanised_name_like_place() -> None:
    subject = "Hye-jin Park arriving late today"

    assert redact_subject(subject) == "[redacted] arriving late today"


def test_redact_subject_unlisted_romanised_name() -> None:
    subject = "Kyung-soo Lim follow up visit"

    assert redact_subject(subject) == "[redacted] follow up visit"


def test_redact_subject_everyday_given_name_stays_name() -> None:
    # "Young" is an everyday word and a Korean given name, and a cue finds it.
    assert redact_subject("RE: Young Kim follow up") == "RE: [redacted] follow up"


@pytest.mark.xfail(
    reason="a practice's name of words rare in English and with no practice "
    "word after it is on no allowlist, so it is redacted",
    strict=True,
)
def test_redact_subject_unlisted_practice_at_start() -> None:
    subject = "Loyola Maywood follow up"

    assert redact_subject(subject) == subject


def test_redact_subject_name_after_capitalised_verb() -> None:
    subject = "Called Halima Yusuf's daughter about ride"

    assert redact_subject(subject) == "Called [redacted]'s daughter about ride"


def test_redact_subject_organisation_after_reply() -> None:
    # "Franklin" is a given name and "Covey" is rare in English, so the
    # allowlist redacts both although they name a company.
    subject = "Re: Franklin Covey workshop"

    assert redact_subject(subject) == "Re: [redacted] workshop"


def test_redact_subject_name_after_reply() -> None:
    subject = "Re: Dorothea McAllister discharge"

    assert redact_subject(subject) == "Re: [redacted] discharge"


@pytest.mark.xfail(
    reason="an organisation's name of words rare in English and with no "
    "organisation word after it is on no allowlist, so it is redacted",
    strict=True,
)
def test_redact_subject_unlisted_organisation_after_reply() -> None:
    subject = "Re: Zimmer Biomet visit"

    assert redact_subject(subject) == subject


# (subject, expected subject after redaction) for the allowlist pass alone:
# no cue and no pattern rule finds these identifiers.
ALLOWLIST_SUBJECTS = [
    ("Rashida re: home program", "[redacted] re: home program"),
    ("Can Nadia switch to 7am?", "Can [redacted] switch to 7am?"),
    ("Tshabalala re-eval", "[redacted] re-eval"),
    ("auth for DUBOIS", "auth for [redacted]"),
    ("JS eval notes", "[redacted] eval notes"),
    ("E. Vásquez cancel", "[redacted] cancel"),
    ("kim soo-ah re-eval + updated POC", "[redacted] re-eval + updated POC"),
    ("Ximena Paz y Miño eval", "[redacted] eval"),
    (
        "Callback list: Suarez 630-555-0181, Patel 630-555-0122",
        "Callback list: [redacted]",
    ),
    ("sub id YHR 223 889 102 - eligibility", "sub id [redacted] - eligibility"),
    ("Pt acct PA 0092 3317 - payment plan", "Pt acct [redacted] - payment plan"),
    ("Cigna ID U72184019 01", "Cigna ID [redacted]"),
    (
        "Dmitri called, pls return 224/555-0138",
        "[redacted] called, pls return [redacted]",
    ),
    ("Update phone: +1 (331) 555-0107", "Update phone: [redacted]"),
    ("Olayinka called from 630-555-0104 ext 2", "[redacted] called from [redacted]"),
    ("Record WM-004512 merged", "Record [redacted] merged"),
    ("chart #40021-B scanned", "chart #[redacted] scanned"),
    ("EMR ID 5541-772 - duplicate", "EMR ID [redacted] - duplicate"),
]


@pytest.mark.parametrize(("subject", "expected"), ALLOWLIST_SUBJECTS)
def test_allowlist_redacts_unknown(subject: str, expected: str) -> None:
    result = redact_subject(subject)

    assert result == expected


@pytest.mark.parametrize(
    "subject",
    [
        "Please confirm the new schedule for next week",
        "Resched eval to Tues 10:30, pls confirm w/ front desk",
        "POC and HEP sent, d/c planned 3/14",
        "FMLA forms for MVA pt - BCBS auth pending",
        "Lunch with Dr. Kowalczyk Friday",
        "Dr. María Elena Castillo Ruiz - referral materials",
        "Re: Anil Patel, MD referral question",
        "Hinsdale Orthopedics lunch 9-10am",
        "Meeting 2026-06-09 at 12:30",
        "Q3 referral numbers, 12 evals",
    ],
)
def test_allowlist_keeps_known(subject: str) -> None:
    result = redact_subject(subject)

    assert result == subject


def test_allowlist_spans_rule_name() -> None:
    subject = "Okafor re: balance"

    spans = find_identifiers(subject)

    assert [(span.start, span.end, span.rule) for span in spans] == [
        (0, 6, ALLOWLIST_RULE)
    ]


def test_allowlist_redacts_old_year() -> None:
    # A date whose year is before 2010 may be a birth date; a recent one stays.
    assert redact_subject("Saw her 1/9/26") == "Saw her 1/9/26"
    assert redact_subject("Form dated 1/9/1958") == "Form dated [redacted]"
