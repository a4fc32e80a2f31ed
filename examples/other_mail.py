"""Mail in the example mailbox that is not with a referral source.

Internal mail among Brookside staff, newsletters, notifications,
auto-replies, mail with organisations whose names resemble a source's, and
spam, trash, drafts and chats that an import must skip.
"""

from __future__ import annotations

import datetime as dt

from clinic import (
    AMY,
    BO,
    FIRST_DAY,
    OTHER_CLINIC_ADDRESSES,
    PERSON_BY_KEY,
    SAM,
    StaffMember,
)
from mail_builder import (
    MailBuilder,
    at_local,
    person_address,
    sam_signature,
    staff_address,
)
from mbox_format import Address


def add_other_mail(builder: MailBuilder) -> None:
    """Add every message that does not involve a referral source's person."""
    _internal_mail(builder)
    _bulk_mail(builder)
    _notifications(builder)
    _other_organisations(builder)
    _skipped_items(builder)


# Mail among Brookside staff.

MONTHS = (
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
)


def _internal_mail(builder: MailBuilder) -> None:
    rng = builder.rng
    marta = OTHER_CLINIC_ADDRESSES["marta"]
    # Each month's numbers go out on the 3rd of the next month, so the
    # November report falls after the export.
    for index, month in enumerate(MONTHS[:-1]):
        report = builder.add(
            at=builder.business_time(dt.date(2026, 3 + index, 3)),
            sender=marta,
            to=[staff_address(SAM), staff_address(BO)],
            subject=f"Referral numbers for {month}",
            body="Hi both,\n\nThe monthly referral counts by practice are in the "
            "shared drive.\n\nMarta",
        )
        if rng.random() < 0.6:
            builder.reply(
                report,
                at=builder.later(report.received_at, rng),
                sender=staff_address(BO, alias=index % 3 == 0),
                cc=[staff_address(AMY)],
                body="Thanks Marta. Sam, let's look at the cold ones on Monday.\n\nBo",
            )
    topics = (
        (SAM, AMY, "Who's covering the Cedar lunch on Thursday?"),
        (SAM, OTHER_CLINIC_ADDRESSES["marta"], "Brochure reorder"),
        (AMY, SAM, "Shared patient from Ridgeway - plan of care question"),
        (BO, SAM, "Q3 liaison plan"),
        (SAM, BO, "Mileage for October visits"),
        (AMY, BO, "PTO next Friday"),
        (BO, OTHER_CLINIC_ADDRESSES["team"], "Huddle agenda"),
        (SAM, AMY, "Lunch-and-learn slides - low back pain"),
        (OTHER_CLINIC_ADDRESSES["frontdesk"], SAM, "Call from Lakeside front desk"),
        (SAM, BO, "Expense report"),
        (AMY, SAM, "Can you drop off referral pads at Riverside?"),
        (BO, SAM, "New referral tracking sheet"),
    )
    for sender, recipient, subject in topics:
        _internal_thread(builder, sender, recipient, subject)
    builder.add(
        at=builder.business_time(dt.date(2026, 10, 27)),
        sender=staff_address(BO),
        to=[staff_address(SAM)],
        cc=[staff_address(AMY)],
        subject="Summit Sports Med has gone quiet - ideas?",
        body="Sam,\n\nWe haven't heard from Summit since September. Could you "
        "try Dr. Bell again?\n\nBo",
    )


def _internal_thread(
    builder: MailBuilder,
    sender: StaffMember | Address,
    recipient: StaffMember | Address,
    subject: str,
) -> None:
    rng = builder.rng
    day = FIRST_DAY + dt.timedelta(days=rng.randrange(290))
    start = builder.business_time(day)
    first = builder.add(
        at=start,
        sender=_as_address(sender),
        to=[_as_address(recipient)],
        subject=subject,
        body="See below, and let me know what you think.\n",
    )
    if rng.random() < 0.7:
        builder.reply(
            first,
            at=builder.later(start, rng),
            sender=_as_address(recipient),
            body="Sounds good, thanks!\n",
        )


def _as_address(value: StaffMember | Address) -> Address:
    if isinstance(value, StaffMember):
        return staff_address(value)
    return value


# Newsletters, notifications and auto-replies.


def _bulk_mail(builder: MailBuilder) -> None:
    for index, month in enumerate(MONTHS):
        builder.newsletter(
            at=at_local(dt.date(2026, 2 + index, 10), 6),
            sender=("Lakeside Health", "news@lakeside-health.example"),
            subject=f"Lakeside Health News - {month} 2026",
            list_id="news.lakeside-health.example",
            unsubscribe=(
                "<mailto:unsubscribe@lakeside-health.example?subject=unsubscribe>, "
                f"<https://lakeside-health.example/u/{index:04d}>"
            ),
            reply_to=("", "communications@lakeside-health.example"),
            precedence="bulk",
        )
    for index, month in enumerate(MONTHS[1::2]):
        builder.newsletter(
            at=at_local(dt.date(2026, 3 + 2 * index, 18), 10),
            sender=("Harbor Point Urgent Care", "updates@harborpoint-uc.example"),
            subject=f"Harbor Point community update - {month}",
            list_id=None,
            unsubscribe=f"<https://harborpoint-uc.example/unsubscribe/{index}>",
        )
    for quarter, day in enumerate((dt.date(2026, 4, 6), dt.date(2026, 7, 6))):
        builder.newsletter(
            at=at_local(day, 7),
            sender=("Ridgeway Ortho", "newsletter@ridgeway-ortho.example"),
            subject=f"Ridgeway Ortho Quarterly - Q{quarter + 2}",
            list_id="quarterly.ridgeway-ortho.example",
            unsubscribe="<mailto:newsletter-leave@ridgeway-ortho.example>",
        )
    day = dt.date(2026, 2, 4)
    issue = 1
    while day < dt.date(2026, 11, 30):
        builder.newsletter(
            at=at_local(day, 5),
            sender=("PT Practice Weekly", "newsletter@ptpractice-weekly.example"),
            subject=f"PT Practice Weekly #{issue}: referral marketing that works",
            list_id="weekly.ptpractice-weekly.example",
            unsubscribe=f"<https://ptpractice-weekly.example/unsub?i={issue}>",
            precedence="list",
        )
        day += dt.timedelta(days=21)
        issue += 1


def _notifications(builder: MailBuilder) -> None:
    rng = builder.rng
    kim = PERSON_BY_KEY["kim_cedar"]
    note = builder.add(
        at=at_local(dt.date(2026, 11, 9), 10, 12),
        sender=staff_address(SAM),
        to=[person_address(kim)],
        cc=[staff_address(AMY)],
        subject="Progress note - re-evaluation",
        body=f"Dr. Kim,\n\nThe re-evaluation note is attached.\n\n{sam_signature()}",
    )
    builder.reply(
        note,
        at=at_local(dt.date(2026, 11, 9), 10, 13),
        sender=person_address(kim),
        subject="Automatic reply: Progress note - re-evaluation",
        body="I am out of the office until November 16 with limited access to "
        "email. For urgent matters please call (630) 555-0130.\n",
        extra=[("Auto-Submitted", "auto-replied"), ("X-Autoreply", "yes")],
        case="auto-reply (Auto-Submitted: auto-replied)",
    )
    foster = PERSON_BY_KEY["foster"]
    packet = builder.add(
        at=at_local(dt.date(2026, 8, 14), 9, 5),
        sender=staff_address(SAM),
        to=[person_address(foster)],
        subject="Referral packet",
        body=f"Hi Gwen,\n\nOur referral packet is attached.\n\n{sam_signature()}",
    )
    builder.reply(
        packet,
        at=at_local(dt.date(2026, 8, 14), 9, 6),
        sender=person_address(foster),
        subject="Out of Office: Referral packet",
        body="I'm out until Monday. For referrals call (630) 555-0170.\n",
        extra=[
            ("Auto-Submitted", "auto-generated"),
            ("X-Auto-Response-Suppress", "All"),
        ],
        case="out-of-office reply (Auto-Submitted: auto-generated)",
    )
    for day in (dt.date(2026, 6, 23), dt.date(2026, 10, 2)):
        builder.add(
            at=builder.business_time(day),
            sender=("Lakeside Health Portal", "noreply@fm.lakeside-health.example"),
            to=[staff_address(SAM)],
            subject="You have a new secure message",
            body="Log in to the Lakeside Health provider portal to read it.\n"
            "Do not reply to this message.\n",
            case="no-reply notification from a source's domain",
        )
    for day in (dt.date(2026, 9, 30), dt.date(2026, 11, 4)):
        builder.add(
            at=builder.business_time(day),
            sender=("FaxRelay", "no-reply@faxrelay.example"),
            to=[staff_address(SAM)],
            subject="Fax received from (630) 555-0171",
            body=f"You received a {rng.randrange(2, 9)}-page fax from "
            "(630) 555-0171. Log in to view it.\n",
            case="no-reply notification naming a source's fax number",
        )
    builder.add(
        at=at_local(dt.date(2026, 9, 28), 8, 2),
        sender=("Google Calendar", "calendar-notification@google.example"),
        to=[staff_address(SAM)],
        subject="Invitation: Weekly huddle with Ridgeway Ortho @ Weekly from 7:30am "
        "on Tuesday (CDT)",
        body="You have been invited to a recurring event.\n",
        extra=[("Sender", "Google Calendar <calendar-notification@google.example>")],
        case="calendar notification",
    )


# Organisations that are not referral sources.


def _other_organisations(builder: MailBuilder) -> None:
    _medical_supply(builder)
    _insurer(builder)
    _law_firm(builder)
    _vendors(builder)


def _medical_supply(builder: MailBuilder) -> None:
    rng = builder.rng
    supply = ("Nate Sorensen", "nsorensen@riverside-medsupply.example")
    quote = builder.add(
        at=builder.business_time(dt.date(2026, 4, 21)),
        sender=supply,
        to=[staff_address(SAM)],
        subject="Quote: TheraBand and foam rollers",
        body="Hi Sam,\n\nQuote attached. Riverside Medical Supply, "
        "(630) 555-0198.\n\nNate",
        case="look-alike: medical supply company named Riverside",
    )
    builder.reply(
        quote,
        at=builder.later(quote.received_at, rng),
        sender=staff_address(SAM),
        body=f"Thanks Nate, please go ahead.\n\n{sam_signature()}",
    )
    builder.add(
        at=builder.business_time(dt.date(2026, 5, 4)),
        sender=("Riverside Medical Supply", "orders@riverside-medsupply.example"),
        to=[staff_address(SAM)],
        subject="Your order has shipped",
        body="Order 55812 has shipped.\n",
    )


def _insurer(builder: MailBuilder) -> None:
    rng = builder.rng
    insurer = ("Provider Relations", "provider-relations@lakeside-mutual.example")
    builder.add(
        at=builder.business_time(dt.date(2026, 6, 11)),
        sender=insurer,
        to=[staff_address(SAM)],
        subject="Prior authorization approved - member ID ABC123456",
        body="The authorization for 12 visits is approved.\n\nLakeside Mutual "
        "Insurance\n",
        case="look-alike: insurer named Lakeside",
    )
    renewal = builder.add(
        at=builder.business_time(dt.date(2026, 9, 8)),
        sender=insurer,
        to=[staff_address(SAM)],
        cc=[staff_address(BO)],
        subject="Network participation renewal",
        body="Your network agreement renews on January 1.\n",
    )
    builder.reply(
        renewal,
        at=builder.later(renewal.received_at, rng),
        sender=staff_address(SAM),
        body=f"Thanks, forwarding to our director.\n\n{sam_signature()}",
    )


def _law_firm(builder: MailBuilder) -> None:
    rng = builder.rng
    lawyer = ("Evan Pryor", "epryor@ridgeway-law.example")
    request = builder.add(
        at=builder.business_time(dt.date(2026, 7, 14)),
        sender=lawyer,
        to=[staff_address(SAM)],
        subject="Records request - Mr. Becker",
        body="Please see the attached authorization for records.\n\nEvan Pryor\n"
        "Ridgeway Law Group\n",
        case="look-alike: law firm named Ridgeway",
    )
    builder.reply(
        request,
        at=builder.later(request.received_at, rng),
        sender=staff_address(SAM),
        cc=[staff_address(BO)],
        body=f"Copying Bo, who handles records requests.\n\n{sam_signature()}",
    )


def _vendors(builder: MailBuilder) -> None:
    rng = builder.rng
    others = (
        (
            ("ClinicSoft Billing", "billing@clinicsoft.example"),
            "Your ClinicSoft invoice",
        ),
        (
            ("Brookside Plaza Management", "manager@brooksideplaza.example"),
            "Parking lot resurfacing Saturday",
        ),
        (
            ("Illinois PT Association", "events@ilpta.example"),
            "Registration confirmed: Fall Conference",
        ),
    )
    for sender, subject in others:
        for day in (dt.date(2026, 3, 17), dt.date(2026, 9, 15)):
            builder.add(
                at=builder.business_time(day + dt.timedelta(rng.randrange(20))),
                sender=sender,
                to=[staff_address(SAM)],
                subject=subject,
                body="Details inside.\n",
            )


# Items an import must skip: spam, trash, drafts and chats.


def _skipped_items(builder: MailBuilder) -> None:
    """Add spam, trash, drafts and chats, with English and localized labels.

    Some are mail with Summit, Maple Grove or Prairie View after those
    practices' last touch, so counting them would hide that they went cold.
    """
    sam = staff_address(SAM)
    amy = staff_address(AMY)
    bo = staff_address(BO)
    bell = person_address(PERSON_BY_KEY["bell"])
    olsen = person_address(PERSON_BY_KEY["olsen"])
    rosa = person_address(PERSON_BY_KEY["jimenez"])
    hollis = person_address(PERSON_BY_KEY["hollis"])
    grant = person_address(PERSON_BY_KEY["grant"])
    doyle = person_address(PERSON_BY_KEY["doyle"])
    phish = ("Riverside Billing", "billing@riverside-fm-billing.example")
    pharma = ("Pharma Deals", "deals@cheap-rx.example")
    prizes = ("Prize Desk", "win@prizes.example")
    items = (
        # (day, from, to, subject, labels, case)
        (
            dt.date(2026, 5, 5),
            phish,
            sam,
            "Invoice overdue - act now",
            ("Spam",),
            "spam from a domain like a source's",
        ),
        (
            dt.date(2026, 8, 19),
            pharma,
            sam,
            "You won a gift card",
            ("Spam", "Non lus"),
            "spam with a French state label",
        ),
        (
            dt.date(2026, 11, 3),
            prizes,
            sam,
            "Claim your reward",
            ("Spam", "Unread"),
            "spam",
        ),
        (
            dt.date(2026, 10, 12),
            olsen,
            sam,
            "Summit holiday party",
            ("Trash", "Opened"),
            "trash: Summit mail after its last touch",
        ),
        (
            dt.date(2026, 9, 3),
            rosa,
            sam,
            "Flu clinic flyer",
            ("Corbeille", "Ouvert"),
            "trash, French label: Maple Grove mail after its last touch",
        ),
        (
            dt.date(2026, 7, 22),
            amy,
            sam,
            "old schedule",
            ("Papierkorb",),
            "trash, German label",
        ),
        (
            dt.date(2026, 10, 20),
            sam,
            bell,
            "Checking in",
            ("Drafts",),
            "draft to Summit after its last touch",
        ),
        (
            dt.date(2026, 11, 2),
            sam,
            hollis,
            "Lunch in December?",
            ("Brouillons",),
            "draft, French label: to Prairie View after its last touch",
        ),
        (
            dt.date(2026, 8, 6),
            sam,
            grant,
            "Brochures",
            ("Borradores",),
            "draft, Spanish label",
        ),
        (dt.date(2026, 4, 14), sam, amy, "Chat with Amy Chen", ("Chat",), "chat"),
        (
            dt.date(2026, 9, 9),
            bo,
            sam,
            "Chat with Bo Lindgren",
            ("Chat", "Opened"),
            "chat",
        ),
        (
            dt.date(2026, 10, 16),
            doyle,
            sam,
            "Chat with Kevin Doyle",
            ("Chat",),
            "chat with a source contact",
        ),
    )
    for day, sender, recipient, subject, labels, case in items:
        builder.add(
            at=builder.business_time(day),
            sender=sender,
            to=[recipient],
            subject=subject,
            body="...\n",
            labels=labels,
            case=case,
        )
