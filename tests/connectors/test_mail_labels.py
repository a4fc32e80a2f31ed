"""Google Takeout labels (connectors.mail.labels)."""

from __future__ import annotations

import unicodedata

import pytest

from connectors.mail import is_sent_label, parse_gmail_labels, skipped_label


def test_labels_in_order() -> None:
    labels = parse_gmail_labels(
        "Boîte de réception,Referrals,Ouvert,Important".encode()
    )

    assert labels == ("Boîte de réception", "Referrals", "Ouvert", "Important")


def test_quoted_label_with_comma() -> None:
    labels = parse_gmail_labels(b'Inbox,"Clinics, North","Say \\"hi\\", then",Opened')

    assert labels == ("Inbox", "Clinics, North", 'Say "hi", then', "Opened")


def test_encoded_label_keeps_its_comma() -> None:
    # The encoded word decodes to "Clinics, North".
    labels = parse_gmail_labels(b"Inbox,=?UTF-8?Q?Clinics=2C_North?=")

    assert labels == ("Inbox", "Clinics, North")


def test_folded_and_empty_labels() -> None:
    labels = parse_gmail_labels(b"Inbox, Category Updates,,Opened, ")

    assert labels == ("Inbox", "Category Updates", "Opened")


def test_latin1_label_bytes() -> None:
    labels = parse_gmail_labels(b"Envoy\xe9s")

    assert labels == ("Envoyés",)


@pytest.mark.parametrize(
    "label",
    [
        # English
        "Spam",
        "Trash",
        "Bin",
        "Drafts",
        "Chat",
        "[Gmail]/Spam",
        # French
        "Corbeille",
        "Brouillons",
        "Chats",
        # German
        "Papierkorb",
        "Entwürfe",
        unicodedata.normalize("NFD", "Entwürfe"),
        # Spanish
        "Papelera",
        "Borradores",
        # Portuguese
        "Lixeira",
        "Lixo",
        "Rascunhos",
        # Italian
        "Cestino",
        "Bozze",
        # Dutch
        "Prullenbak",
        "Concepten",
        "SPAM",
    ],
)
def test_skipped_labels(label: str) -> None:
    assert skipped_label(("Inbox", label)) == label


@pytest.mark.parametrize(
    "labels",
    [
        ("Inbox", "Important", "Opened"),
        ("Boîte de réception", "Non lus", "Ouvert"),
        ("Referrals/Spam review",),
        (),
    ],
)
def test_kept_labels(labels: tuple[str, ...]) -> None:
    assert skipped_label(labels) is None


@pytest.mark.parametrize(
    "label",
    [
        "Sent",
        "SENT",
        "Sent Mail",
        "[Gmail]/Sent Mail",
        "Envoyés",
        "Messages envoyés",
        "Gesendet",
        "Enviados",
        "Posta inviata",
        "Verzonden",
    ],
)
def test_sent_labels(label: str) -> None:
    assert is_sent_label(label)


@pytest.mark.parametrize("label", ["Inbox", "Sent to Ana", "Unsent"])
def test_labels_that_are_not_sent(label: str) -> None:
    assert not is_sent_label(label)
