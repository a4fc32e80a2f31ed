"""Text folding shared by the person-name, practice-name and street matchers."""

from __future__ import annotations

import functools
import re

from anyascii import anyascii

# anyascii turns U+2019 and U+2018 into "'", but the source text may also carry
# a grave accent or an acute accent typed in place of an apostrophe.
_APOSTROPHES = re.compile(r"['`\u00b4]")

# "M.D." or "P.C.": single letters joined by full stops are one word.
_INITIALISM = re.compile(r"\b[a-z](?:\.[a-z])+\b\.?")

_NON_WORD = re.compile(r"[^a-z0-9]+")


@functools.lru_cache(maxsize=65_536)
def fold(text: str) -> str:
    """Fold text to lower-case ASCII words separated by single spaces.

    Accents are transliterated with anyascii, apostrophes are removed (so
    "O’Brien" and "O'Brien" both give "obrien"), "M.D." becomes "md", and
    every other run of punctuation or whitespace becomes one space.
    """
    folded = _APOSTROPHES.sub("", anyascii(text).lower())
    folded = _INITIALISM.sub(lambda found: found.group().replace(".", ""), folded)
    return _NON_WORD.sub(" ", folded).strip()


def words(text: str) -> list[str]:
    """Split text into folded words."""
    folded = fold(text)
    return folded.split(" ") if folded else []


def domain_of(address: str) -> str:
    """Return the domain of an addr-spec, or "" when it has none."""
    _, at, domain = address.rpartition("@")
    return domain if at else ""


def local_part_of(address: str) -> str:
    """Return the part of an addr-spec before the last "@"."""
    return address.rpartition("@")[0]


def is_same_or_subdomain(domain: str, parent: str) -> bool:
    """Tell whether `domain` is `parent` or a subdomain of it.

    Labels must match whole, so "notlakeside.example" is not under
    "lakeside.example".
    """
    return domain == parent or domain.endswith("." + parent)
