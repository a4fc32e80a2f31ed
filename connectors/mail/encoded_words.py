"""RFC 2047 encoded words (`=?charset?Q?text?=`) in header text."""

from __future__ import annotations

import base64
import binascii
import re

from connectors.mail.charsets import decode_bytes

# RFC 2047 section 2: encoded text contains no "?" and no white space.  The
# match is not anchored to word boundaries, because clients also write
# encoded words glued to other text ("Re:=?utf-8?q?...?=") and readers
# decode them anyway.
_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")


def decode_encoded_words(text: str, where: str, defects: list[str]) -> str:
    """Decode the encoded words in `text`, leaving other text as it is.

    White space between two encoded words is dropped (RFC 2047 section 6.2),
    and adjacent words in one charset are joined before decoding, because
    clients split a multi-byte character across two words.  A word that does
    not decode stays as written and adds a defect note.
    """
    if "=?" not in text:
        return text
    pieces: list[str | tuple[str, bytes]] = []
    position = 0
    for match in _ENCODED_WORD.finditer(text):
        payload = _payload_bytes(match.group(2), match.group(3))
        if payload is None:
            defects.append(f"{where}: encoded word {match.group(0)[:60]!r} is invalid")
            continue
        between = text[position : match.start()]
        if between and not (
            between.isspace() and pieces and isinstance(pieces[-1], tuple)
        ):
            pieces.append(between)
        pieces.append((match.group(1).lower(), payload))
        position = match.end()
    pieces.append(text[position:])
    return _join_pieces(pieces, where, defects)


def _payload_bytes(encoding: str, encoded: str) -> bytes | None:
    if encoding in "qQ":
        # header=True decodes "_" as a space (RFC 2047 section 4.2).
        return binascii.a2b_qp(encoded.encode("ascii", "replace"), header=True)
    padding = "=" * (-len(encoded) % 4)
    try:
        return base64.b64decode(encoded + padding)
    except (binascii.Error, ValueError):
        return None


def _join_pieces(
    pieces: list[str | tuple[str, bytes]], where: str, defects: list[str]
) -> str:
    output: list[str] = []
    charset: str | None = None
    pending = b""
    for piece in pieces:
        if isinstance(piece, tuple) and piece[0] == charset:
            pending += piece[1]
            continue
        if charset is not None:
            output.append(decode_bytes(pending, charset, where, defects))
            charset, pending = None, b""
        if isinstance(piece, tuple):
            charset, pending = piece
        else:
            output.append(piece)
    if charset is not None:
        output.append(decode_bytes(pending, charset, where, defects))
    return "".join(output)
