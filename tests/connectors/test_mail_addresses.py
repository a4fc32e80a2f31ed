"""Address headers (connectors.mail.addresses)."""

from __future__ import annotations

import time
import tracemalloc

import pytest

from connectors.mail import Mailbox, parse_address_list
from connectors.mail.addresses import _parse_full_list, _parse_simple_list


def parse(value: str) -> tuple[list[Mailbox], list[str]]:
    defects: list[str] = []
    return parse_address_list(value, "To", defects), defects


def test_folded_encoded_display_name() -> None:
    mailboxes, defects = parse(
        "=?UTF-8?Q?Ren=C3=A9e_O=E2=80=99Br?=\r\n =?UTF-8?Q?ien?= "
        "<renee.obrien@lakeside-fm.example>"
    )

    assert mailboxes == [Mailbox("renee.obrien@lakeside-fm.example", "Renée O’Brien")]
    assert defects == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('"Nguyen, Thao" <thao.nguyen@cedar-im.example>', "Nguyen, Thao"),
        ('"thao.nguyen" <thao.nguyen@cedar-im.example>', "thao.nguyen"),
        (
            '"Maria Elena Ruiz Soto, MD" <mruiz@cedar-im.example>',
            "Maria Elena Ruiz Soto, MD",
        ),
        (
            '"Patel, Anil:REFERRALS" <anil.patel@cedar-im.example>',
            "Patel, Anil:REFERRALS",
        ),
        (
            '"ridgeway-frontdesk@ridgeway-ortho.example" '
            "<ridgeway-frontdesk@ridgeway-ortho.example>",
            None,
        ),
        ("'Dana Wu' <dana.wu@northgate-clinic.example>", "Dana Wu"),
        ("John Q. Public <jqp@cedar-im.example>", "John Q. Public"),
    ],
)
def test_raw_display_name_kept(value: str, expected: str | None) -> None:
    mailboxes, defects = parse(value)

    assert [mailbox.name for mailbox in mailboxes] == [expected]
    assert mailboxes[0].name_from_comment is False
    assert defects == []


def test_name_in_comment() -> None:
    mailboxes, defects = parse("dana.wu@northgate-clinic.example (Dana Wu, MD)")

    assert mailboxes == [
        Mailbox(
            "dana.wu@northgate-clinic.example", "Dana Wu, MD", name_from_comment=True
        )
    ]
    assert defects == []


def test_cve_2023_27043_misparse_blocked() -> None:
    mailboxes, defects = parse(
        "referrals@northgate-clinic.example)<billing@spoof.example>"
    )

    assert mailboxes == [Mailbox("referrals@northgate-clinic.example")]
    assert defects == [
        "To: invalid ')' in an address; ignored the rest of that address"
    ]


@pytest.mark.parametrize(
    "value",
    [
        "referrals@northgate-clinic.example)<billing@spoof.example>",
        "referrals@northgate-clinic.example]<billing@spoof.example>",
        "referrals@northgate-clinic.example\\<billing@spoof.example>",
        "<referrals@northgate-clinic.example> <billing@spoof.example>",
        "<referrals@northgate-clinic.example>billing@spoof.example",
        "referrals@northgate-clinic.example>billing@spoof.example",
    ],
)
def test_junk_after_address_never_adds_one(value: str) -> None:
    mailboxes, defects = parse(value)

    assert [m.address for m in mailboxes] == ["referrals@northgate-clinic.example"]
    assert len(defects) == 1


def test_group_names_not_participants() -> None:
    to, to_defects = parse("undisclosed-recipients:;")
    cc, cc_defects = parse(
        "Referral Team: amy.chen@brookside-pt.example, "
        "Bo Lindgren <bo@brookside-pt.example>;, carl@ridgeway-ortho.example"
    )

    assert to == []
    assert cc == [
        Mailbox("amy.chen@brookside-pt.example"),
        Mailbox("bo@brookside-pt.example", "Bo Lindgren"),
        Mailbox("carl@ridgeway-ortho.example"),
    ]
    assert to_defects == cc_defects == []


def test_rfc2822_appendix_a5_example() -> None:
    sender, sender_defects = parse(
        "Pete(A wonderful \\) chap) <pete(his account)@silly.test(his host)>"
    )
    to, to_defects = parse(
        "A Group(Some people)\r\n     :Chris Jones <c@(Chris's host.)public.example>,"
        "\r\n         joe@example.org,\r\n  John <jdoe@one.test> (my dear friend);"
        " (the end of the group)"
    )
    cc, cc_defects = parse(
        "(Empty list)(start)Undisclosed recipients  :(nobody(that I know))  ;"
    )

    assert sender == [Mailbox("pete@silly.test", "Pete")]
    assert to == [
        Mailbox("c@public.example", "Chris Jones"),
        Mailbox("joe@example.org"),
        Mailbox("jdoe@one.test", "John"),
    ]
    assert cc == []
    assert sender_defects == to_defects == cc_defects == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # SpamScope mail_test_19: unquoted addresses as display names.
        ("alice@example.com <bob@example.com>", [Mailbox("bob@example.com")]),
        ('"alice@example.com" <bob@example.com>', [Mailbox("bob@example.com")]),
        (
            "=?UTF-8?B?bm90aWZpY2FjY2lvbi1jbGllbnRlc0BiYnZhLm14?=\r\n\t"
            "<notificaccion-clientes@bbva.mx>",
            [Mailbox("notificaccion-clientes@bbva.mx")],
        ),
        ('"Mary" <mailto:mary@x.example>', [Mailbox("mary@x.example", "Mary")]),
        (
            "smith@gmail.com, Mikel@Lindsaar <raasdnil@gmail.com>, tom@gmail.com",
            [
                Mailbox("smith@gmail.com"),
                Mailbox("raasdnil@gmail.com", "Mikel@Lindsaar"),
                Mailbox("tom@gmail.com"),
            ],
        ),
        (
            "<@relay.example,@hop.example:Ana@Lakeside-FM.example>",
            [Mailbox("ana@lakeside-fm.example")],
        ),
        (
            '"jöhn doe" <JDÖE@Mächine.example>',
            [Mailbox("jdöe@mächine.example", "jöhn doe")],
        ),
        ('"john smith"@x.example', [Mailbox('"john smith"@x.example')]),
        ('"john"@x.example', [Mailbox("john@x.example")]),
        ("a@[192.0.2.1]", [Mailbox("a@[192.0.2.1]")]),
        ("a@x.example; b@y.example", [Mailbox("a@x.example"), Mailbox("b@y.example")]),
        ("a@x.example,,b@y.example,", [Mailbox("a@x.example"), Mailbox("b@y.example")]),
        ("<a@x.example> (Ana Diaz)", [Mailbox("a@x.example", "Ana Diaz", True)]),
        (
            "danilo@lakeside-fm.example (Danilo =?utf-8?Q?=C5=A0egan?=)",
            [Mailbox("danilo@lakeside-fm.example", "Danilo Šegan", True)],
        ),
    ],
)
def test_address_shapes(value: str, expected: list[Mailbox]) -> None:
    mailboxes, _ = parse(value)

    assert mailboxes == expected


@pytest.mark.parametrize(
    "value",
    [
        "andy at example.com (Andy Grunwald)",
        "Undisclosed recipients",
        "ana@",
        "@lakeside-fm.example",
        "ana@.example",
        "ana@lakeside-fm.",
        "a@b@c.example",
        "john smith@x.example",
        "Ana Diaz <>",
        "<@relay.example a@x.example>",
    ],
)
def test_not_an_address(value: str) -> None:
    mailboxes, defects = parse(value)

    assert mailboxes == []
    assert len(defects) == 1
    assert "is not an e-mail address" in defects[0]


def test_unclosed_angle_still_read() -> None:
    mailboxes, defects = parse("John <john@x.example, Mary <mary@y.example>")

    assert mailboxes == [
        Mailbox("john@x.example", "John"),
        Mailbox("mary@y.example", "Mary"),
    ]
    assert defects == ["To: an angle address is not closed"]


def test_many_recipients() -> None:
    # A Thunderbird message of the Nylas sync-engine test data has 4,096 To
    # addresses; this header has as many distinct ones, folded.
    value = ",\r\n\t".join(f"r{number}@x{number % 7}.example" for number in range(4096))

    started = time.perf_counter()
    mailboxes, defects = parse(value)
    elapsed = time.perf_counter() - started

    assert len(mailboxes) == 4096
    assert mailboxes[4095] == Mailbox("r4095@x0.example")
    assert defects == []
    assert elapsed < 1.0


@pytest.mark.parametrize(
    "value",
    [
        '"x" <' * 12_000,
        "(" * 60_000,
        '"' + "\\" * 59_999,
        "[" + "a" * 59_999,
        "a@" + ".x" * 30_000 + "<",
        "<" * 60_000,
        "a" * 30_000 + " " + "b" * 30_000 + " <",
    ],
)
def test_garbage_under_limit_is_fast_and_small(value: str) -> None:
    tracemalloc.start()
    started = time.perf_counter()

    parse(value)

    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert elapsed < 2.0
    # Tokens take about 80 bytes each; the 64 KB header limit bounds them.
    assert peak < 100 * len(value) + 1_000_000


AGREEMENT_SAMPLES = [
    "ana@lakeside-fm.example",
    "Ana Diaz <ana@lakeside-fm.example>",
    '"Diaz, Ana" <ana@lakeside-fm.example>, bo@brookside-pt.example',
    "<webmaster@khaleejtimes.com>,\t<sales@dg-jh.com>",
    "=?UTF-8?B?Rm9vLCBCYXI=?= <foo.bar@example.com>",
    "=?UTF-8?Q?Ren=C3=A9e_O=E2=80=99Br?=  =?UTF-8?Q?ien?= <r@x.example>",
    "alice@example.com <bob@example.com>",
    "John Q. Public <jqp@x.example>",
    "'Dana Wu' <dana@x.example>",
    '"" <empty@x.example>',
    "a@.example",
    "a@x.example.",
    "A@X.EXAMPLE , B@Y.EXAMPLE",
    "=?x-unknown?B?Q2Fm6Q==?= <cafe@x.example>",
    '"ridgeway@ridgeway-ortho.example" <ridgeway@ridgeway-ortho.example>',
    "Mikel@Lindsaar <raasdnil@gmail.com>",
    "Ana   Diaz\r\n <ana@x.example>",
]


@pytest.mark.parametrize("value", AGREEMENT_SAMPLES)
def test_fast_path_agrees_with_full_parser(value: str) -> None:
    simple_defects: list[str] = []
    full_defects: list[str] = []

    simple = _parse_simple_list(value, "To", simple_defects)
    full = _parse_full_list(value, "To", full_defects)

    if simple is not None:
        assert simple == full
        assert simple_defects == full_defects


def test_fast_path_covers_common_forms() -> None:
    handled = [
        v for v in AGREEMENT_SAMPLES if _parse_simple_list(v, "To", []) is not None
    ]

    assert len(handled) >= 12
