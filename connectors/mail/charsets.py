"""Charset labels as mail software really uses them, and decoding that never raises.

Mail clients routinely label bytes with a narrower charset than the one they
wrote (`iso-8859-1` for windows-1252 text, `gb2312` for GBK), and some labels
name no charset at all (`x-unknown`, `unknown-8bit`).  Browsers met the same
data, so the WHATWG Encoding Standard (https://encoding.spec.whatwg.org/,
"Names and labels") maps each such label to the superset that decodes it; the
table below follows it for the labels seen in mail.
"""

from __future__ import annotations

import codecs
import functools
import re

# Label (lower case) -> Python codec of the superset that mail really uses.
_SUPERSETS = {
    **dict.fromkeys(
        (
            "ascii",
            "us-ascii",
            "iso-8859-1",
            "iso8859-1",
            "iso_8859-1",
            "iso-ir-100",
            "latin1",
            "latin-1",
            "l1",
            "cp819",
            "ibm819",
            "csisolatin1",
            "windows-1252",
            "cp1252",
            "x-cp1252",
        ),
        "windows-1252",
    ),
    **dict.fromkeys(
        ("iso-8859-9", "iso8859-9", "iso_8859-9", "latin5", "l5", "csisolatin5"),
        "cp1254",
    ),
    **dict.fromkeys(("iso-8859-11", "iso8859-11", "tis-620"), "cp874"),
    **dict.fromkeys(
        (
            "gb2312",
            "gbk",
            "x-gbk",
            "cp936",
            "ms936",
            "windows-936",
            "euc-cn",
            "chinese",
            "csgb2312",
            "gb_2312-80",
            "iso-ir-58",
        ),
        "gb18030",
    ),
    **dict.fromkeys(
        (
            "ks_c_5601-1987",
            "ks_c_5601-1989",
            "ks_c_5601",
            "ksc5601",
            "ksc_5601",
            "euc-kr",
            "cseuckr",
            "korean",
            "iso-ir-149",
            "windows-949",
        ),
        "cp949",
    ),
    **dict.fromkeys(
        (
            "shift_jis",
            "shift-jis",
            "sjis",
            "x-sjis",
            "ms_kanji",
            "csshiftjis",
            "windows-31j",
            "ms932",
        ),
        "cp932",
    ),
    **dict.fromkeys(("big5", "cn-big5", "csbig5", "x-x-big5"), "big5hkscs"),
    **dict.fromkeys(("utf8", "unicode-1-1-utf-8", "x-unicode20utf8"), "utf-8"),
}

# The IANA character set registry allows names of up to 40 printable
# US-ASCII characters.
_CHARSET_NAME = re.compile(r"[!-~]{1,40}")

# Labels that name no charset: the sender did not know it.
_UNKNOWN = frozenset({"", "unknown", "unknown-8bit", "x-unknown", "x-user-defined"})


def decode_bytes(
    raw: bytes, charset: str | None, where: str, defects: list[str]
) -> str:
    """Decode `raw` labelled `charset`, falling back when the label is wrong.

    An unknown label, or bytes that are invalid in the labelled charset, are
    decoded as UTF-8 if valid, else as windows-1252, with a defect note that
    names `where`.
    """
    codec = resolve_charset(charset or "")
    if codec is None:
        text, used = _decode_fallback(raw)
        defects.append(f"{where}: unknown charset {charset!r}; decoded as {used}")
        return text
    try:
        return _decode_with(raw, codec)
    except UnicodeError:
        text, used = _decode_fallback(raw)
        defects.append(
            f"{where}: bytes invalid in charset {charset!r}; decoded as {used}"
        )
        return text


def decode_unlabelled(raw: bytes, where: str, defects: list[str]) -> str:
    """Decode header bytes that carry no charset label.

    RFC 6532 allows raw UTF-8 in headers.  Older clients wrote their local
    8-bit charset instead, nearly always windows-1252 or Latin-1, which adds a
    defect note.
    """
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        defects.append(
            f"{where}: 8-bit bytes that are not UTF-8; decoded as windows-1252"
        )
        return decode_windows_1252(raw)


@functools.lru_cache(maxsize=256)
def resolve_charset(label: str) -> str | None:
    """Return the Python codec for a MIME charset label, or None if unknown.

    A language suffix (RFC 2231, `utf-8*en`) is ignored.  Labels of Python's
    bytes-to-bytes codecs (`hex`, `zlib`) count as unknown.
    """
    name = label.strip().strip('"').split("*", 1)[0].strip().lower()
    if name in _UNKNOWN:
        return None
    if name in _SUPERSETS:
        return _SUPERSETS[name]
    if not _CHARSET_NAME.fullmatch(name):
        return None
    try:
        # bytes.decode raises LookupError for unknown names and for codecs
        # that are not text encodings.  Empty input would skip the lookup.
        b"a".decode(name)
    except UnicodeError:
        pass  # a text codec that rejects this one byte (utf-16)
    except (LookupError, ValueError):
        return None
    return codecs.lookup(name).name


def decode_windows_1252(raw: bytes) -> str:
    """Decode windows-1252 as the WHATWG standard does, which never fails.

    Python's cp1252 codec rejects the five bytes that Microsoft left
    unassigned (0x81, 0x8D, 0x8F, 0x90, 0x9D).  The standard maps them to the
    C1 controls of the same value, as Latin-1 does.
    """
    return raw.decode("latin-1").translate(_windows_1252_table())


@functools.cache
def _windows_1252_table() -> dict[int, str]:
    table = {}
    for byte in range(0x80, 0xA0):
        try:
            table[byte] = bytes([byte]).decode("cp1252")
        except UnicodeDecodeError:
            continue
    return table


def _decode_with(raw: bytes, codec: str) -> str:
    if codec == "windows-1252":
        return decode_windows_1252(raw)
    return raw.decode(codec)


def _decode_fallback(raw: bytes) -> tuple[str, str]:
    try:
        return raw.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        return decode_windows_1252(raw), "windows-1252"
