"""Gmail labels as Google Takeout writes them in the X-Gmail-Labels header.

Takeout writes the system labels in the account's language, so the names of
the ones that decide whether a message counts are listed here in English and
the common Western European languages of the Gmail interface.  Takeout also
mixes state labels such as "Opened" or "Ouvert" into the list; they are kept
as they are.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from connectors.mail.charsets import decode_unlabelled
from connectors.mail.encoded_words import decode_encoded_words

# Labels whose messages are not correspondence: spam, trash, drafts and chat
# transcripts (Takeout exports Hangouts chats as messages labelled "Chat").
_SKIPPED = frozenset(
    {
        # Spam
        "spam",
        "junk",
        "pourriel",
        "courrier indésirable",
        "correo no deseado",
        "posta indesiderata",
        # Trash
        "trash",
        "bin",
        "corbeille",
        "papierkorb",
        "papelera",
        "lixeira",
        "lixo",
        "cestino",
        "prullenbak",
        # Drafts
        "draft",
        "drafts",
        "brouillons",
        "entwürfe",
        "borradores",
        "rascunhos",
        "bozze",
        "concepten",
        # Chat
        "chat",
        "chats",
    }
)

_SENT = frozenset(
    {
        "sent",
        "sent mail",
        "sent messages",
        "sent items",
        "envoyés",
        "messages envoyés",
        "éléments envoyés",
        "gesendet",
        "gesendete objekte",
        "enviados",
        "enviadas",
        "correo enviado",
        "elementos enviados",
        "e-mails enviados",
        "itens enviados",
        "inviati",
        "posta inviata",
        "verzonden",
        "verzonden items",
    }
)


def parse_gmail_labels(value: bytes) -> tuple[str, ...]:
    """Split an X-Gmail-Labels value into labels, in order.

    Labels are separated by commas.  A label that contains a comma is
    enclosed in double quotes, with backslash escapes inside.  Encoded words
    and raw UTF-8 are decoded after splitting, so that a comma they decode
    to stays inside its label.
    """
    defects: list[str] = []
    labels = []
    for raw in _split_quoted(value):
        text = decode_encoded_words(
            decode_unlabelled(raw, "X-Gmail-Labels", defects), "X-Gmail-Labels", defects
        )
        label = " ".join(text.split())
        if label:
            labels.append(label)
    return tuple(labels)


def skipped_label(labels: Sequence[str]) -> str | None:
    """Return the first label that marks spam, trash, a draft or a chat, or None."""
    for label in labels:
        if _normalized(label) in _SKIPPED:
            return label
    return None


def is_sent_label(label: str) -> bool:
    """Tell whether a label or folder name means sent mail, in any listed language."""
    return _normalized(label) in _SENT


def _normalized(label: str) -> str:
    name = unicodedata.normalize("NFC", label).casefold().strip()
    # IMAP exposes Gmail's system labels under "[Gmail]/", as in "[Gmail]/Spam".
    return name.removeprefix("[gmail]/").removeprefix("[google mail]/")


def _split_quoted(value: bytes) -> list[bytes]:
    if b'"' not in value:
        return value.split(b",")
    parts: list[bytes] = []
    current = bytearray()
    quoted = escaped = False
    for byte in value:
        if escaped:
            current.append(byte)
            escaped = False
        elif quoted and byte == 0x5C:  # backslash
            escaped = True
        elif byte == 0x22:  # double quote
            quoted = not quoted
        elif byte == 0x2C and not quoted:  # comma
            parts.append(bytes(current))
            current.clear()
        else:
            current.append(byte)
    parts.append(bytes(current))
    return parts
