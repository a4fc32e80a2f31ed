"""Messages with messy headers and other hard cases for an mbox import.

Each message here carries one case, named in its `case` field and in the
local part of its Message-ID, so that a test can find it.  The dates keep
every practice's last touch where clinic.py puts it.
"""

from __future__ import annotations

import base64
import datetime as dt

from clinic import AMY, BO, PERSON_BY_KEY, SAM
from mail_builder import MailBuilder, at_local, staff_address
from mbox_format import HeaderValue, Message, format_address, format_date

OVERSIZED_TO = b'"x" <' * 20_000
"""An address header of 100,000 bytes, over the 65,536-byte limit."""

OVERSIZED_CC = b"<>, " * 17_000
"""68,000 bytes of empty addresses."""


def add_header_cases(builder: MailBuilder) -> None:
    """Add every hard-case message to `builder`."""
    _name_cases(builder)
    _group_cases(builder)
    _date_cases(builder)
    _charset_cases(builder)
    _quarantine_cases(builder)
    _addressing_cases(builder)


def _inbound(
    builder: MailBuilder,
    *,
    at: dt.datetime,
    message_id: str | None,
    header_lines: list[tuple[str, HeaderValue]],
    body: str | bytes,
    case: str,
    subject: str,
    date: HeaderValue | None = None,
    labels: tuple[str, ...] = ("Inbox", "Opened"),
    parent_id: str | None = None,
) -> Message:
    """Add an inbound message whose headers after Date are `header_lines`.

    `date` replaces the Date header value, or removes the header when it is
    the empty string.  A `message_id` of None leaves out the Message-ID.
    """
    headers: list[tuple[str, HeaderValue]] = [
        ("Delivered-To", SAM.email),
        ("MIME-Version", "1.0"),
    ]
    if date != "":
        headers.append(("Date", format_date(at) if date is None else date))
    if message_id is not None:
        builder.message_ids.fixed(message_id)
        headers.append(("Message-ID", f"<{message_id}>"))
    if parent_id is not None:
        headers += [("In-Reply-To", f"<{parent_id}>"), ("References", f"<{parent_id}>")]
    headers += header_lines
    if isinstance(body, str):
        headers.append(("Content-Type", 'text/plain; charset="UTF-8"'))
    return builder.add_raw(
        at=at,
        headers=headers,
        body=body,
        labels=labels,
        message_id=message_id,
        subject=subject,
        case=case,
    )


def _to_sam() -> tuple[str, HeaderValue]:
    return ("To", format_address(staff_address(SAM)))


# Display names.


def _name_cases(builder: MailBuilder) -> None:
    _inbound(
        builder,
        at=at_local(dt.date(2026, 3, 3), 9, 15),
        message_id="folded-name.20260303@fm.lakeside-health.example",
        header_lines=[
            (
                "From",
                "=?UTF-8?Q?Ren=C3=A9e_O=E2=80=99Br?=\n =?UTF-8?Q?ien?= "
                "<renee.obrien@fm.lakeside-health.example>",
            ),
            _to_sam(),
            ("Subject", "=?UTF-8?Q?Referral_for_Mr=2E?=\n =?UTF-8?Q?_Nakamura?="),
        ],
        body="Sam, referral for Mr. Nakamura is in the fax queue.\n\nRenee\n",
        case="encoded-word name and subject folded over two lines",
        subject="Referral for Mr. Nakamura",
    )
    _inbound(
        builder,
        at=at_local(dt.date(2026, 9, 22), 14, 2),
        message_id="name-in-comment.20260922@northgate-clinic.example",
        header_lines=[
            ("From", "dana.wu@northgate-clinic.example (Dana Wu, MD)"),
            _to_sam(),
            ("Subject", "Shoulder referral"),
        ],
        body="Sending a shoulder referral your way.\n\nDana Wu, MD\n",
        case="display name only in an RFC 5322 comment",
        subject="Shoulder referral",
    )
    _inbound(
        builder,
        at=at_local(dt.date(2026, 8, 27), 11, 40),
        message_id="name-shapes.20260827@fm.lakeside-health.example",
        header_lines=[
            ("From", '"Nguyen, Thao" <thao.nguyen@fm.lakeside-health.example>'),
            ("To", '"sam.ortiz" <sam.ortiz@brookside-pt.example>'),
            (
                "Cc",
                '"ana.diaz@fm.lakeside-health.example" '
                "<ana.diaz@fm.lakeside-health.example>",
            ),
            ("Subject", "Shared patient - home exercise program"),
        ],
        body="Can you send the home exercise handout again?\n\nThao\n",
        case='names "Last, First", a dotted name and an address used as name',
        subject="Shared patient - home exercise program",
    )
    _inbound(
        builder,
        at=at_local(dt.date(2026, 7, 7), 10, 20),
        message_id="name-tag.20260707@riverside-fm.example",
        header_lines=[
            ("From", '"Patel, Anil:REFERRALS" <apatel@riverside-fm.example>'),
            _to_sam(),
            ("Subject", "Referral - hip bursitis"),
        ],
        body="Referral attached.\n\nAnil Patel\nRiverside Family Medicine\n",
        case="display name with a group tag (:REFERRALS)",
        subject="Referral - hip bursitis",
    )


# Group syntax.


def _group_cases(builder: MailBuilder) -> None:
    haas = PERSON_BY_KEY["haas"]
    _inbound(
        builder,
        at=at_local(dt.date(2026, 11, 16), 8, 30),
        message_id="undisclosed.20261116@riverside-fm.example",
        header_lines=[
            ("From", format_address((haas.display_name, haas.email))),
            ("To", "undisclosed-recipients:;"),
            ("Subject", "Riverside Family Medicine holiday hours"),
        ],
        body=(
            "From the desk of Linda Haas:\n\n"
            "We close at noon on Nov 25 and reopen Nov 30.\n\n"
            "Linda Haas\nOffice Manager, Riverside Family Medicine\n"
        ),
        case="undisclosed-recipients group; body line starting 'From '",
        subject="Riverside Family Medicine holiday hours",
    )
    doyle = PERSON_BY_KEY["doyle"]
    message_id = builder.message_ids.fixed("named-group.20261006@mail.gmail.example")
    at = at_local(dt.date(2026, 10, 6), 15, 5)
    builder.add_raw(
        at=at,
        headers=[
            ("MIME-Version", "1.0"),
            ("Date", format_date(at)),
            ("Message-ID", f"<{message_id}>"),
            ("Subject", "Referral pads and fax cover sheets"),
            ("From", format_address(staff_address(SAM))),
            ("To", format_address((doyle.display_name, doyle.email))),
            (
                "Cc",
                f"Referral Team: {AMY.email}, Bo Lindgren <{BO.aliases[0]}>;, "
                "carl@ridgeway-ortho.example",
            ),
            ("Content-Type", 'text/plain; charset="UTF-8"'),
        ],
        body="Kevin, new pads are on the way.\n\nSam\n",
        labels=("Sent",),
        message_id=message_id,
        subject="Referral pads and fax cover sheets",
        case="named group in Cc (Referral Team: ...;)",
    )


# Date headers.

DATE_CASES = (
    # (Message-ID, Gmail's date in UTC, Date value, sender key, subject, case)
    (
        "date-unparseable.20260819@ridgeway-ortho.example",
        dt.datetime(2026, 8, 19, 13, 6, 3, tzinfo=dt.UTC),
        "2026/08/19 Wed 13:06:03 GMT",
        "weiss",
        "Huddle moved to conference room",
        "Date that does not parse",
    ),
    (
        "date-dotted-time.20260808@northgatemed.example",
        dt.datetime(2026, 8, 8, 14, 3, 9, tzinfo=dt.UTC),
        "Sat, 8 Aug 2026 16.03.09 +0200",
        "wu",
        "Knee pain referral (sent while traveling)",
        "Date with dots in the time",
    ),
    (
        "date-three-digit-year.20260614@prairieview-fp.example",
        dt.datetime(2026, 6, 14, 12, 41, 34, tzinfo=dt.UTC),
        "Sun, 14 Jun 126 05:41:34 -0700 (PDT)",
        "lund",
        "Office closed Friday",
        "Date with a three-digit year (126 means 2026)",
    ),
    (
        "date-no-zone.20260303@cedar-im.example",
        dt.datetime(2026, 3, 3, 15, 15, 0, tzinfo=dt.UTC),
        "Tue, 3 Mar 2026 09:15:00",
        "grant",
        "Fax machine down today",
        "Date without a zone",
    ),
    (
        "date-hour-25.20260415@northgate-clinic.example",
        dt.datetime(2026, 4, 15, 15, 15, 0, tzinfo=dt.UTC),
        "Wed, 15 Apr 2026 25:15:00 +0000",
        "foster",
        "Referral: low back pain",
        "Date with hour 25",
    ),
    (
        "date-overflow.20260511@riverside-fm.example",
        dt.datetime(2026, 5, 11, 17, 0, 0, tzinfo=dt.UTC),
        "Mon, 11 May 9999999999 12:00:00 +0000",
        "doyle",
        "Referral: plantar fasciitis",
        "Date with year 9999999999 (OverflowError in Python 3.11)",
    ),
    (
        "date-named-zone.20261105@cedar-im.example",
        dt.datetime(2026, 11, 5, 15, 15, 0, tzinfo=dt.UTC),
        "Thu, 05 Nov 2026 09:15:00 CST",
        "grant",
        "Updated insurance list",
        "Date with a named zone (CST)",
    ),
    (
        "date-garbled.20260617@ortho.lakeside-health.example",
        dt.datetime(2026, 6, 17, 14, 30, 0, tzinfo=dt.UTC),
        "17 June , 2026",
        "banks",
        "Brochures for the Lakeside Ortho waiting room",
        "Date '17 June , 2026'",
    ),
    (
        "date-future.20260721@summit-sportsmed.example",
        dt.datetime(2026, 7, 21, 16, 0, 0, tzinfo=dt.UTC),
        "Fri, 1 Jan 2099 00:00:00 +0000",
        "olsen",
        "Summit schedule for August",
        "Date in 2099, far after Gmail's date",
    ),
    (
        "date-missing.20260428@riverside-fm.example",
        dt.datetime(2026, 4, 28, 14, 0, 0, tzinfo=dt.UTC),
        "",
        "haas",
        "Parking for your lunch visit",
        "no Date header",
    ),
)


def _date_cases(builder: MailBuilder) -> None:
    for message_id, received, date, sender_key, subject, case in DATE_CASES:
        sender = PERSON_BY_KEY[sender_key]
        # Dr. Wu writes from her address at Northgate's second domain.
        address = sender.emails[-1] if sender_key == "wu" else sender.email
        _inbound(
            builder,
            at=received,
            message_id=message_id,
            header_lines=[
                ("From", format_address((sender.display_name, address))),
                _to_sam(),
                ("Subject", subject),
            ],
            body=f"Hi Sam,\n\n{subject}.\n\n{sender.display_name}\n",
            case=case,
            subject=subject,
            date=date,
        )


# Charsets.


def _charset_cases(builder: MailBuilder) -> None:
    diaz = PERSON_BY_KEY["diaz"]
    _inbound(
        builder,
        at=at_local(dt.date(2026, 7, 9), 13, 45),
        message_id="charset-cp1252.20260709@fm.lakeside-health.example",
        header_lines=[
            ("From", format_address((diaz.display_name, diaz.email))),
            _to_sam(),
            ("Subject", "=?iso-8859-1?Q?Dr=2E_O=92Brien=92s_referral?="),
        ],
        body="Order attached.\n\nAna\n",
        case="iso-8859-1 label on windows-1252 bytes (0x92)",
        subject="Dr. O’Brien’s referral",
    )
    _inbound(
        builder,
        at=at_local(dt.date(2026, 4, 16), 16, 10),
        message_id="raw-latin1.20260416@maplegrove-peds.example",
        header_lines=[
            (
                "From",
                b"Tom\xe1s \xc1lvarez, CPNP <tomas.alvarez@maplegrove-peds.example>",
            ),
            _to_sam(),
            ("Subject", b"Evaluaci\xf3n de fisioterapia - ni\xf1o de 6 a\xf1os"),
        ],
        body="Hola Sam, referral for a 6-year-old attached.\n\nTomas\n",
        case="raw 8-bit Latin-1 bytes in From and Subject",
        subject="Evaluación de fisioterapia - niño de 6 años",
    )
    grant = PERSON_BY_KEY["grant"]
    encoded = base64.b64encode("Lunch at Café Rosa on Friday?".encode("cp1252"))
    _inbound(
        builder,
        at=at_local(dt.date(2026, 10, 14), 9, 30),
        message_id="charset-unknown.20261014@cedar-im.example",
        header_lines=[
            ("From", format_address((grant.display_name, grant.email))),
            _to_sam(),
            ("Subject", f"=?x-unknown?B?{encoded.decode('ascii')}?="),
        ],
        body="Our treat this time.\n\nMelissa\n",
        case="encoded word in an unknown charset (x-unknown)",
        subject="Lunch at Café Rosa on Friday?",
    )


# Messages an import should quarantine.


def _quarantine_cases(builder: MailBuilder) -> None:
    _inbound(
        builder,
        at=at_local(dt.date(2026, 6, 2), 10, 0),
        message_id="oversized-to.20260602@fm.lakeside-health.example",
        header_lines=[
            ("From", "ana.diaz@fm.lakeside-health.example"),
            ("To", OVERSIZED_TO),
            ("Subject", "garbled"),
        ],
        body="body\n",
        case="quarantine: To header of 100,000 bytes",
        subject="garbled",
    )
    _inbound(
        builder,
        at=at_local(dt.date(2026, 10, 21), 11, 0),
        message_id="oversized-cc.20261021@northgate-clinic.example",
        header_lines=[
            ("From", "Gwen Foster <gwen.foster@northgate-clinic.example>"),
            _to_sam(),
            ("Cc", OVERSIZED_CC),
            ("Subject", "Referral list"),
        ],
        body="body\n",
        case="quarantine: Cc header of 68,000 bytes of empty addresses",
        subject="Referral list",
    )


# Who the message is from or to.


def _addressing_cases(builder: MailBuilder) -> None:
    _reply_to_missing_parent(builder)
    _two_practices(builder)
    _unlisted_personal_address(builder)
    _unknown_people_at_practices(builder)
    _sender_and_labels(builder)


def _reply_to_missing_parent(builder: MailBuilder) -> None:
    nguyen = PERSON_BY_KEY["nguyen"]
    _inbound(
        builder,
        at=at_local(dt.date(2026, 5, 12), 11, 5),
        message_id="reply-to-missing.20260512@fm.lakeside-health.example",
        header_lines=[
            ("From", format_address((nguyen.display_name, nguyen.email))),
            _to_sam(),
            ("Subject", "RE: patient Jane Doe DOB 04/12/1961"),
        ],
        body="Yes, please continue twice a week.\n\nThao Nguyen, NP\n",
        case="reply whose parent is not in the export; patient in subject",
        subject="RE: patient Jane Doe DOB 04/12/1961",
        parent_id="CAmissing-parent-0512@mail.gmail.example",
    )
    _inbound(
        builder,
        at=at_local(dt.date(2026, 9, 3), 14, 20),
        message_id=None,
        header_lines=[
            ("From", "Kevin Doyle <kevin.doyle@riverside-fm.example>"),
            _to_sam(),
            ("Subject", "Referral - shoulder impingement"),
        ],
        body="Faxed this morning.\n\nKevin\n",
        case="no Message-ID header",
        subject="Referral - shoulder impingement",
    )


def _two_practices(builder: MailBuilder) -> None:
    doyle = PERSON_BY_KEY["doyle"]
    grant = PERSON_BY_KEY["grant"]
    invite = builder.add(
        at=at_local(dt.date(2026, 3, 24), 10, 30),
        sender=staff_address(SAM),
        to=[(doyle.display_name, doyle.email), (grant.display_name, grant.email)],
        bcc=[staff_address(BO)],
        subject="Spring lunch-and-learn: low back pain pathways",
        body="Hi Kevin and Melissa,\n\nWe're hosting a lunch-and-learn for both "
        "of your teams on April 9.\n\nSam\n",
        labels=("Sent",),
        message_id="two-practices.20260324@mail.gmail.example",
        case="one message to two practices, with Bcc",
    )
    for person, hour in ((doyle, 13), (grant, 15)):
        builder.reply(
            invite,
            at=at_local(dt.date(2026, 3, 24), hour, 10),
            sender=(person.display_name, person.email),
            body="Count us in.\n",
        )


def _unlisted_personal_address(builder: MailBuilder) -> None:
    question = builder.add(
        at=at_local(dt.date(2026, 10, 29), 19, 40),
        sender=("Priya Raman", "praman.ortho@gmail.example"),
        to=[staff_address(SAM)],
        subject="Quick question about a shared patient",
        body="Sam, writing from my personal account. Can Amy call me about our "
        "post-op patient?\n\nPriya Raman, MD\nRidgeway Orthopedic Associates\n"
        "(630) 555-0140\n",
        message_id="unlisted-personal.20261029@mail.gmail.example",
        case="provider writing from an unlisted personal address (name only)",
    )
    builder.reply(
        question,
        at=at_local(dt.date(2026, 10, 30), 8, 15),
        sender=staff_address(SAM),
        cc=[staff_address(AMY)],
        body="Dr. Raman, Amy will call you this morning.\n\nSam\n",
    )


def _unknown_people_at_practices(builder: MailBuilder) -> None:
    builder.add(
        at=at_local(dt.date(2026, 7, 28), 9, 50),
        sender=("Tasha Greene", "tasha.greene@cedar-im.example"),
        to=[staff_address(SAM)],
        subject="New fax line for referrals",
        body="Hi Sam, I'm new at the Cedar front desk. Our referral fax is now "
        "(630) 555-0131.\n\nTasha Greene\nCedar Internal Medicine\n",
        message_id="unknown-staff.20260728@cedar-im.example",
        case="unknown staff member at a practice domain",
    )
    builder.add(
        at=at_local(dt.date(2026, 9, 16), 13, 0),
        sender=("Jill Moreno", "jill.moreno@lakeside-health.example"),
        to=[staff_address(SAM)],
        subject="Lakeside Health referral portal training",
        body="Hi Sam, we're rolling out a new referral portal across Lakeside "
        "Health. Training is on October 7.\n\nJill Moreno\nLakeside Health\n",
        message_id="system-domain.20260916@lakeside-health.example",
        case="unknown person at the health system's parent domain",
    )


def _sender_and_labels(builder: MailBuilder) -> None:
    lopez = PERSON_BY_KEY["lopez"]
    doyle = PERSON_BY_KEY["doyle"]
    _inbound(
        builder,
        at=at_local(dt.date(2026, 5, 5), 11, 25),
        message_id="sender-on-behalf.20260505@riverside-fm.example",
        header_lines=[
            ("From", format_address((lopez.display_name, lopez.email))),
            ("Sender", format_address((doyle.display_name, doyle.email))),
            _to_sam(),
            ("Subject", "Referral for knee OA"),
        ],
        body="Sent on behalf of Dr. Lopez.\n\nKevin\n",
        case="Sender differs from From (sent on behalf)",
        subject="Referral for knee OA",
    )
    diaz = PERSON_BY_KEY["diaz"]
    _inbound(
        builder,
        at=at_local(dt.date(2026, 3, 5), 10, 40),
        message_id="localized-labels.20260305@fm.lakeside-health.example",
        header_lines=[
            ("From", format_address((diaz.display_name, diaz.email))),
            _to_sam(),
            ("Subject", "New referral"),
        ],
        body="New referral attached.\n\nAna\n",
        case="French Takeout labels (Boîte de réception, Ouvert)",
        subject="New referral",
        labels=("Boîte de réception", "Referrals", "Ouvert", "Important"),
    )
    _inbound(
        builder,
        at=at_local(dt.date(2026, 10, 8), 12, 5),
        message_id="mixed-case.20261008@riverside-fm.example",
        header_lines=[
            ("From", "Kevin Doyle <Kevin.Doyle@Riverside-FM.example>"),
            ("To", "SAM.ORTIZ@BROOKSIDE-PT.EXAMPLE"),
            ("Subject", "Re: referral pads"),
        ],
        body="Got them, thanks!\n",
        case="addresses in mixed and upper case",
        subject="Re: referral pads",
    )
    _attachment_message(builder)


def _attachment_message(builder: MailBuilder) -> None:
    doyle = PERSON_BY_KEY["doyle"]
    boundary = "b1_signed_poc_0616"
    pdf = base64.encodebytes(b"%PDF-1.4\n% example plan of care, signed\n%%EOF\n")
    body = (
        f"--{boundary}\n"
        'Content-Type: text/html; charset="UTF-8"\n\n'
        "<p>Signed plan of care attached.</p><p>Kevin Doyle<br>"
        "Riverside Family Medicine<br>(630) 555-0110 ext. 4</p>\n\n"
        f"--{boundary}\n"
        'Content-Type: application/pdf; name="plan-of-care-signed.pdf"\n'
        'Content-Disposition: attachment; filename="plan-of-care-signed.pdf"\n'
        "Content-Transfer-Encoding: base64\n\n"
        f"{pdf.decode('ascii')}\n"
        f"--{boundary}--\n"
    )
    _inbound(
        builder,
        at=at_local(dt.date(2026, 6, 16), 15, 35),
        message_id="attachment.20260616@riverside-fm.example",
        header_lines=[
            ("From", format_address((doyle.display_name, doyle.email))),
            _to_sam(),
            ("Subject", "Plan of care - signed"),
            ("Content-Type", f'multipart/mixed; boundary="{boundary}"'),
        ],
        body=body.encode("ascii"),
        case="HTML-only body with a PDF attachment",
        subject="Plan of care - signed",
    )
