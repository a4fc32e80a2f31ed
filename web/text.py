"""Input text clean-up shared by pages and the API."""

from __future__ import annotations


def clean_text(text: str) -> str:
    """Drop NUL characters and unpaired surrogates, which no database stores.

    PostgreSQL rejects NUL in text, and a lone surrogate cannot be encoded as
    UTF-8, so either would otherwise fail deep in a query.
    """
    return text.encode("utf-8", "replace").decode("utf-8").replace("\x00", "")


def like_pattern(text: str) -> str:
    """Return a LIKE pattern matching `text` anywhere, its wildcards escaped."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
