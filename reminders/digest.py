"""The daily digest: its sections as plain rows, and the email that carries them.

`build_message` returns a multipart/alternative message with a text part
and an HTML part, made with the standard library's email package.  Every
value put into the HTML is escaped.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
from collections.abc import Sequence
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

Row = tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class Section:
    """One titled table of the digest."""

    title: str
    headers: Row
    rows: Sequence[Row]


@dataclasses.dataclass(frozen=True)
class Digest:
    """Everything one staff member's digest for one local date shows."""

    staff_name: str
    staff_email: str
    local_date: dt.date
    sections: Sequence[Section]
    review_count: int

    @property
    def empty(self) -> bool:
        return self.review_count == 0 and not any(s.rows for s in self.sections)

    @property
    def subject(self) -> str:
        counts = ", ".join(
            f"{len(section.rows)} {section.title.lower()}"
            for section in self.sections
            if section.rows
        )
        day = f"{self.local_date:%a %d %b %Y}"
        return f"Warmline digest for {day}: {counts or 'all clear'}"


def render_text(digest: Digest) -> str:
    """Render the digest as plain text with aligned columns."""
    lines = [f"Good morning {digest.staff_name},", ""]
    for section in digest.sections:
        if not section.rows:
            continue
        lines.append(f"== {section.title} ({len(section.rows)})")
        lines.extend(_aligned(section))
        lines.append("")
    lines.append(_review_sentence(digest.review_count))
    return "\n".join(lines) + "\n"


def _aligned(section: Section) -> list[str]:
    table = [section.headers, *section.rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(section.headers))]
    return [
        "  "
        + "  ".join(
            cell.ljust(width) for cell, width in zip(row, widths, strict=True)
        ).rstrip()
        for row in table
    ]


def _review_sentence(count: int) -> str:
    if count == 0:
        return "No matches wait for review."
    return (
        f"{count} match(es) wait for review: list them with "
        "'warmline touchpoints export --status needs_review'."
    )


def render_html(digest: Digest) -> str:
    """Render the digest as a small HTML document of tables."""
    parts = [
        "<!DOCTYPE html>",
        '<html><body style="font-family: sans-serif">',
        f"<p>Good morning {html.escape(digest.staff_name)},</p>",
    ]
    for section in digest.sections:
        if section.rows:
            parts.append(_html_table(section))
    parts.append(f"<p>{html.escape(_review_sentence(digest.review_count))}</p>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _html_table(section: Section) -> str:
    head = "".join(f'<th align="left">{html.escape(h)}</th>' for h in section.headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>"
        for row in section.rows
    )
    title = html.escape(f"{section.title} ({len(section.rows)})")
    return (
        f'<h3>{title}</h3>\n<table cellpadding="4">'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


def build_message(
    digest: Digest, sender: str, message_id: str, now: dt.datetime
) -> EmailMessage:
    """Return the digest as an email from `sender` to the staff member."""
    message = EmailMessage()
    message["From"] = Address("Warmline", addr_spec=sender)
    message["To"] = Address(digest.staff_name, addr_spec=digest.staff_email)
    message["Subject"] = digest.subject
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(render_text(digest))
    message.add_alternative(render_html(digest), subtype="html")
    return message
