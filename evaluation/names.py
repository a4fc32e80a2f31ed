"""Display names and encoded words as senders and mail programs write them.

Each function takes a `Person` of the invented world and returns a display
name of one kind ("Dr. Lopez", "LOPEZ, MARIA", "Bob Chen, MD").  The
generator decides the labels from which parts of the name a display name
shows, so each function also returns whether the given name (or its
initial) is shown.
"""

from __future__ import annotations

import base64
import random
import unicodedata

from evaluation.world import NICKNAMES, Person, _plain


def plain_first(person: Person) -> str:
    return _plain(person.first)


def plain_last(person: Person) -> str:
    return _plain(person.last)


def doctor_prefix(person: Person, rng: random.Random) -> tuple[str, bool]:
    first, last = plain_first(person), plain_last(person)
    shapes = (
        (f"Dr. {first} {last}", True),
        (f"Dr {first} {last}", True),
        (f"Dr. {last}", False),
        (f"Dr. {first[0]}. {last}", True),
        (f"Doctor {first} {last}", True),
    )
    return rng.choice(shapes)


def with_credentials(person: Person, rng: random.Random) -> tuple[str, bool]:
    first, last = plain_first(person), plain_last(person)
    credential = person.credential
    if credential == "MD" and rng.random() < 0.4:
        credential = "M.D."
    shapes = [
        f"{first} {last}, {credential}",
        f"{first} {last} {credential}",
        f"{first} {last}, {credential}, FAAOS" if person.is_doctor else "",
        f"{first} {person.middle} {last}, {credential}" if person.middle else "",
    ]
    return rng.choice([shape for shape in shapes if shape]), True


def last_first(person: Person, rng: random.Random) -> tuple[str, bool]:
    first, last = plain_first(person), plain_last(person)
    shapes = [f"{last}, {first}", f"{last.upper()}, {first.upper()}"]
    if person.middle:
        shapes.append(f"{last}, {first} {person.middle[0]}.")
    return rng.choice(shapes), True


def middle_initial(person: Person, rng: random.Random) -> tuple[str, bool]:
    first, last = plain_first(person), plain_last(person)
    initial = person.middle[0]
    shape = rng.choice((f"{first} {initial}. {last}", f"{first} {initial} {last}"))
    return shape, True


def nickname(person: Person, rng: random.Random) -> tuple[str, bool]:
    nick = rng.choice(NICKNAMES[person.first])
    last = plain_last(person)
    shape = rng.choice((f"{nick} {last}", f"{nick} {last}, {person.credential}"))
    return shape.removesuffix(", "), True


def typo(person: Person, rng: random.Random) -> tuple[str, bool]:
    """Misspell the surname, or the given name when the surname is short."""
    first, last = plain_first(person), plain_last(person)
    if len(last) >= 5 and (len(first) < 5 or rng.random() < 0.7):
        last = misspell(last, rng)
    else:
        first = misspell(first, rng)
    return f"{first} {last}", True


def misspell(word: str, rng: random.Random) -> str:
    """Make one typing slip inside a word: swap, drop, double or replace."""
    position = rng.randrange(1, len(word) - 1)
    slip = rng.choice(("swap", "drop", "double", "replace"))
    if slip == "swap":
        return (
            word[:position] + word[position + 1] + word[position] + word[position + 2 :]
        )
    if slip == "drop":
        return word[:position] + word[position + 1 :]
    if slip == "double":
        return word[:position] + word[position] + word[position:]
    vowels = "aeiou"
    replacement = rng.choice([v for v in vowels if v != word[position]])
    return word[:position] + replacement + word[position + 1 :]


def hyphenated(person: Person, rng: random.Random) -> tuple[str, bool]:
    """Write a hyphenated surname in part, or a double one hyphenated."""
    first, last = plain_first(person), plain_last(person)
    if "-" in last:
        one, other = last.split("-", 1)
        return rng.choice(
            (f"{first} {one}", f"{first} {other}", f"{first} {one} {other}")
        ), True
    return f"{first} {last}-{rng.choice(('Shaw', 'Baird', 'Lowe'))}", True


def maiden(person: Person, rng: random.Random) -> tuple[str, bool]:
    """Write a person whom the source list has as "Amanda Cole Reyes"."""
    first, last = plain_first(person), plain_last(person)
    shapes = (
        f"{first} {last}",
        f"{first} {person.maiden}",
        f"{first} {person.maiden}-{last}",
    )
    return rng.choice(shapes), True


def accented(person: Person) -> str:
    return f"{person.first} {person.last}"


def encoded_header(display: str, address: str, rng: random.Random) -> str:
    """Write `display` <address> with RFC 2047 encoded words, as clients do.

    The encodings vary as real clients' do: Q or B in UTF-8, Q in
    ISO-8859-1 where the name fits, UTF-8 in decomposed form (macOS), and a
    name split across two encoded words.
    """
    choice = rng.choice(("q", "b", "latin1", "nfd", "split"))
    if choice == "latin1":
        try:
            data = display.encode("iso-8859-1")
        except UnicodeEncodeError:
            choice = "q"
        else:
            return f"{_q_word(data, 'iso-8859-1')} <{address}>"
    if choice == "nfd":
        data = unicodedata.normalize("NFD", display).encode("utf-8")
        return f"{_b_word(data)} <{address}>"
    if choice == "b":
        return f"{_b_word(display.encode('utf-8'))} <{address}>"
    if choice == "split":
        first, _, rest = display.partition(" ")
        head = _q_word(first.encode("utf-8"), "utf-8")
        tail = _q_word((" " + rest).encode("utf-8"), "utf-8")
        return f"{head} {tail} <{address}>"
    return f"{_q_word(display.encode('utf-8'), 'utf-8')} <{address}>"


def _q_word(data: bytes, charset: str) -> str:
    encoded = []
    for byte in data:
        char = chr(byte)
        if char == " ":
            encoded.append("_")
        elif char.isascii() and char.isalnum():
            encoded.append(char)
        else:
            encoded.append(f"={byte:02X}")
    return f"=?{charset}?Q?{''.join(encoded)}?="


def _b_word(data: bytes) -> str:
    return f"=?utf-8?B?{base64.b64encode(data).decode('ascii')}?="


def quoted_header(display: str | None, address: str) -> str:
    """Write a mailbox as a mail program would, quoting names with specials."""
    if not display:
        return address
    if any(char in display for char in ',.:;@()<>[]"'):
        escaped = display.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}" <{address}>'
    return f"{display} <{address}>"
