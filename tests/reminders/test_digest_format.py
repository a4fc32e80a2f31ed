"""The digest email: text and HTML parts, subject, escaping."""

from __future__ import annotations

import datetime as dt

from reminders.digest import Digest, Section, build_message, render_text

NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)


def digest(review_count: int = 2) -> Digest:
    return Digest(
        staff_name="Sam Ortiz",
        staff_email="sam.ortiz@brookside-pt.example",
        local_date=dt.date(2026, 12, 1),
        sections=[
            Section(
                "Follow-ups due", ("id", "source"), [("4", "Renee O'Brien <DO> & co")]
            ),
            Section("Going cold", ("source",), []),
        ],
        review_count=review_count,
    )


def test_message_has_text_and_html_alternatives():
    message = build_message(
        digest(), "digest@brookside-pt.example", "<d1@brookside-pt.example>", NOW
    )

    assert message.get_content_type() == "multipart/alternative"
    parts = [part.get_content_type() for part in message.iter_parts()]
    assert parts == ["text/plain", "text/html"]
    assert message["To"] == "Sam Ortiz <sam.ortiz@brookside-pt.example>"
    assert message["Message-ID"] == "<d1@brookside-pt.example>"
    assert message["Auto-Submitted"] == "auto-generated"


def test_subject_counts_non_empty_sections():
    assert digest().subject == "Warmline digest for Tue 01 Dec 2026: 1 follow-ups due"


def test_html_escapes_values():
    message = build_message(
        digest(), "digest@brookside-pt.example", "<d1@x.example>", NOW
    )

    html_part = message.get_body(("html",)).get_content()
    assert "Renee O&#x27;Brien &lt;DO&gt; &amp; co" in html_part
    assert "<DO>" not in html_part


def test_text_skips_empty_sections_and_counts_reviews():
    text = render_text(digest())

    assert "== Follow-ups due (1)" in text
    assert "Going cold" not in text
    assert "2 match(es) wait for review" in text


def test_empty_digest():
    quiet = Digest(
        "Amy Chen",
        "amy.chen@brookside-pt.example",
        dt.date(2026, 12, 1),
        [Section("Going cold", ("source",), [])],
        0,
    )

    assert quiet.empty
    assert not digest().empty
    assert not digest(review_count=0).empty
