"""Address lists (RFC 5322 section 3.4), read leniently but never misread.

The standard library gets real headers wrong in both directions.
`email.utils.getaddresses` turns an address followed by junk into extra
addresses (CVE-2023-27043), and the modern policy splits folded encoded-word
names and drops a name held in a comment.

This parser follows RFC 5322, including the obsolete forms that mail still
carries: comments anywhere, routes and groups.  Broken input follows one
rule.  An invalid character ends the address it is in, and the text before
it is kept if it forms an address.  The rest, up to the next comma, is
ignored with a defect note.
"""

from __future__ import annotations

import dataclasses
import re
from typing import NamedTuple

from connectors.mail.encoded_words import decode_encoded_words

_TOKEN = re.compile(
    r"""
    (?P<space>[ \t\r\n]+)
    | (?P<atom>[^ \t\r\n()<>\[\]:;@\\,"]+)
    | "(?P<quoted>(?:[^"\\]|\\.)*+)(?P<close>"?)
    | (?P<literal>\[(?:[^\[\]\\]|\\.)*+\])
    | (?P<special>[<>:;@,])
    | (?P<comment>\()
    """,
    re.VERBOSE | re.DOTALL,
)
_COMMENT_MARK = re.compile(r"\\.|[()]", re.DOTALL)
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
_DOT_ATOM = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
)
# Unambiguous, so that a long near-miss fails in linear time.
_ADDRESS_LIKE = re.compile(
    r"<?(?:mailto:)?[^\s@<>]+@[^\s@<>.]+(?:\.[^\s@<>.]+)+>?", re.IGNORECASE
)
_EXCERPT_CHARACTERS = 60

# One mailbox of the common forms, then a comma or the end.  The word class
# is the tokenizer's atom class, so both parsers read these forms alike.
_WORD = r"""[^\s()<>\[\]:;@\\,"]+"""
_SIMPLE_MAILBOX = re.compile(
    rf"""
    \s*
    (?:
        (?: "(?P<quoted>[^"\\]*)" | (?P<plain>{_WORD}(?:\s+{_WORD})*) )?
        \s*<(?P<angle>{_WORD}@{_WORD})>
      | (?P<bare>{_WORD}@{_WORD})
    )
    \s*(?:,|$)
    """,
    re.VERBOSE,
)


@dataclasses.dataclass(frozen=True, slots=True)
class Mailbox:
    """One address read from a header, with its decoded name if it has one.

    `address` is lower case.  `name` is None when the header gives none or
    gives an e-mail address as the name.  `name_from_comment` marks a name
    read from a comment, as in `dana@x.example (Dana Wu)`.
    """

    address: str
    name: str | None = None
    name_from_comment: bool = False


class _Token(NamedTuple):
    kind: str  # atom, quoted, literal, comment, invalid, or the character
    text: str  # unescaped content for quoted strings and comments
    space: bool  # white space or a comment comes before it


def parse_address_list(value: str, field: str, defects: list[str]) -> list[Mailbox]:
    """Return the mailboxes of an address header, in order.

    Group names (`undisclosed-recipients:;`, `Team: a@x.example;`) are not
    mailboxes, but group members are.  Text that is not an address (no "@",
    or no domain) yields nothing and a defect note naming `field`.
    """
    simple = _parse_simple_list(value, field, defects)
    if simple is not None:
        return simple
    return _parse_full_list(value, field, defects)


def looks_like_address(text: str) -> bool:
    """Tell whether `text` is an e-mail address, as display names sometimes are."""
    return _ADDRESS_LIKE.fullmatch(text) is not None


def _parse_simple_list(
    value: str, field: str, defects: list[str]
) -> list[Mailbox] | None:
    """Parse the common forms quickly, or return None to use the full parser.

    It handles lists of `Name <a@x>`, `"Name" <a@x>`, `<a@x>` and `a@x`
    with no comments, groups or escapes.  On those it returns what
    `_parse_full_list` returns, which a test checks.
    """
    mailboxes = []
    position, length = 0, len(value)
    notes: list[str] = []
    while position < length:
        match = _SIMPLE_MAILBOX.match(value, position)
        if match is None or match.end() == position:
            return None
        position = match.end()
        address = match.group("angle") or match.group("bare")
        local, _, domain = address.partition("@")
        if domain.startswith(".") or domain.endswith("."):
            return None
        phrase = match.group("quoted") or match.group("plain") or ""
        name = _clean_name(decode_encoded_words(phrase, field, notes))
        mailboxes.append(Mailbox(address.lower(), name))
    defects.extend(notes)
    return mailboxes


def _parse_full_list(value: str, field: str, defects: list[str]) -> list[Mailbox]:
    tokens = _tokenize(value, field, defects)
    mailboxes = []
    for item in _split_items(tokens, field, defects):
        mailbox = _read_item(item, field, defects)
        if mailbox is not None:
            mailboxes.append(mailbox)
    return mailboxes


def _tokenize(value: str, field: str, defects: list[str]) -> list[_Token]:
    tokens: list[_Token] = []
    position, length, space = 0, len(value), False
    while position < length:
        match = _TOKEN.match(value, position)
        if match is None:
            tokens.append(_Token("invalid", value[position], space))
            position, space = position + 1, False
            continue
        kind = match.lastgroup
        position = match.end()
        if kind == "space":
            space = True
            continue
        if kind == "comment":
            text, position = _read_comment(value, match.start(), field, defects)
            tokens.append(_Token("comment", text, space))
            space = True
            continue
        if kind == "quoted" or kind == "close":
            if not match.group("close"):
                defects.append(f"{field}: a quoted string is not closed")
            text = _ESCAPE.sub(r"\1", match.group("quoted"))
            tokens.append(_Token("quoted", text, space))
        elif kind == "special":
            tokens.append(_Token(match.group(), match.group(), space))
        else:
            tokens.append(_Token(str(kind), match.group(), space))
        space = False
    return tokens


def _read_comment(
    value: str, start: int, field: str, defects: list[str]
) -> tuple[str, int]:
    """Return the unescaped text of the comment at `start` and the end offset."""
    depth = 0
    for mark in _COMMENT_MARK.finditer(value, start):
        if mark.group() == "(":
            depth += 1
        elif mark.group() == ")":
            depth -= 1
            if depth == 0:
                return _ESCAPE.sub(r"\1", value[start + 1 : mark.start()]), mark.end()
    defects.append(f"{field}: a comment is not closed")
    return _ESCAPE.sub(r"\1", value[start + 1 :]), len(value)


def _split_items(
    tokens: list[_Token], field: str, defects: list[str]
) -> list[list[_Token]]:
    """Split tokens into one list per address, dropping group names."""
    items: list[list[_Token]] = []
    item: list[_Token] = []
    in_group = skipping = False
    angle: int | None = None  # index in `item` of an open "<"
    for token in tokens:
        kind = token.kind
        if (
            kind == ","
            and angle is not None
            and not skipping
            and _is_route(item, angle)
        ):
            item.append(token)  # obsolete route: <@a.example,@b.example:x@c.example>
            continue
        if kind in (",", ";"):
            items.append(item)
            item, angle, skipping = [], None, False
            in_group = in_group and kind != ";"
            continue
        if skipping:
            continue
        if angle is not None:
            if kind == ">":
                angle = None
            elif kind in ("<", "invalid"):
                _note_invalid(token, field, defects)
                skipping, angle = True, None
                continue
            item.append(token)
            continue
        if kind == ":" and not in_group:
            item, in_group = [], True
            continue
        if kind == "<" and not any(t.kind == "<" for t in item):
            angle = len(item)
        elif kind in ("<", ">", ":", "invalid"):
            _note_invalid(token, field, defects)
            skipping = True
            continue
        item.append(token)
    items.append(item)
    return items


def _is_route(item: list[_Token], angle: int) -> bool:
    return len(item) > angle + 1 and item[angle + 1].kind == "@"


def _note_invalid(token: _Token, field: str, defects: list[str]) -> None:
    defects.append(
        f"{field}: invalid {token.text[:_EXCERPT_CHARACTERS]!r} in an address; "
        "ignored the rest of that address"
    )


def _read_item(item: list[_Token], field: str, defects: list[str]) -> Mailbox | None:
    if all(token.kind == "comment" for token in item):
        return None
    open_index = next((i for i, t in enumerate(item) if t.kind == "<"), None)
    if open_index is None:
        return _read_bare_address(item, field, defects)
    close_index = next(
        (i for i in range(open_index + 1, len(item)) if item[i].kind == ">"), None
    )
    if close_index is None:
        defects.append(f"{field}: an angle address is not closed")
        close_index = len(item)
    after = item[close_index + 1 :]
    if any(token.kind != "comment" for token in after):
        defects.append(f"{field}: ignored {_excerpt(after)!r} after an address")
    address = _addr_spec(_without_route(item[open_index + 1 : close_index]))
    if address is None:
        excerpt = _excerpt(item[open_index + 1 : close_index])
        defects.append(f"{field}: {excerpt!r} is not an e-mail address")
        return None
    name = _phrase(item[:open_index], field, defects)
    if name is not None:
        return Mailbox(address, name)
    comments = [t for t in item[:open_index] + after if t.kind == "comment"]
    return _with_comment_name(address, comments, field, defects)


def _read_bare_address(
    item: list[_Token], field: str, defects: list[str]
) -> Mailbox | None:
    address = _addr_spec(item)
    if address is None:
        defects.append(f"{field}: {_excerpt(item)!r} is not an e-mail address")
        return None
    trailing: list[_Token] = []
    for token in reversed(item):
        if token.kind != "comment":
            break
        trailing.insert(0, token)
    return _with_comment_name(address, trailing, field, defects)


def _with_comment_name(
    address: str, comments: list[_Token], field: str, defects: list[str]
) -> Mailbox:
    for comment in comments:
        name = _clean_name(decode_encoded_words(comment.text, field, defects))
        if name is not None:
            return Mailbox(address, name, name_from_comment=True)
    return Mailbox(address)


def _without_route(tokens: list[_Token]) -> list[_Token]:
    """Drop a source route (`@a.example,@b.example:`) or a `mailto:` prefix.

    Routes are obsolete syntax (RFC 5322 section 4.4).  The prefix comes from
    clients that paste a link into the angle brackets.
    """
    words = [t for t in tokens if t.kind != "comment"]
    is_route = bool(words) and words[0].kind == "@"
    is_link = (
        len(words) > 1 and words[0].text.lower() == "mailto" and words[1].kind == ":"
    )
    colons = [i for i, t in enumerate(tokens) if t.kind == ":"]
    if (is_route or is_link) and colons:
        return tokens[colons[-1] + 1 :]
    return tokens


def _addr_spec(tokens: list[_Token]) -> str | None:
    """Return the lower-cased addr-spec the tokens form, or None."""
    words = [t for t in tokens if t.kind != "comment"]
    at_signs = [i for i, t in enumerate(words) if t.kind == "@"]
    if len(at_signs) != 1:
        return None
    local = _join_word(words[: at_signs[0]], ("atom", "quoted"))
    domain = _join_word(words[at_signs[0] + 1 :], ("atom", "literal"))
    if not local or not domain or domain.startswith(".") or domain.endswith("."):
        return None
    return f"{local}@{domain}".lower()


def _join_word(tokens: list[_Token], kinds: tuple[str, ...]) -> str | None:
    """Join the tokens of a local part or domain, or return None if spaced."""
    parts = []
    for index, token in enumerate(tokens):
        if token.kind not in kinds or (index > 0 and token.space):
            return None
        parts.append(_quote_local(token.text) if token.kind == "quoted" else token.text)
    return "".join(parts)


def _quote_local(text: str) -> str:
    if _DOT_ATOM.fullmatch(text):
        return text
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _phrase(tokens: list[_Token], field: str, defects: list[str]) -> str | None:
    """Return the decoded display name the tokens form, or None."""
    parts: list[str] = []
    for token in tokens:
        if token.kind == "comment":
            continue
        if parts and token.space:
            parts.append(" ")
        parts.append(token.text)
    return _clean_name(decode_encoded_words("".join(parts), field, defects))


def _clean_name(text: str) -> str | None:
    name = " ".join(text.split())
    # Outlook and Exchange wrap some names in single quotes: 'Dana Wu'.
    if len(name) > 1 and name[0] == name[-1] == "'":
        name = name[1:-1].strip()
    if not name or looks_like_address(name):
        return None
    return name


def _excerpt(tokens: list[_Token]) -> str:
    text = " ".join(token.text for token in tokens if token.kind != "comment")
    return text[:_EXCERPT_CHARACTERS]
