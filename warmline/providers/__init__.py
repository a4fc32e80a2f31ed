"""Core glue for connectors that talk to a provider's API: readers and sign-in."""

from __future__ import annotations


def register_all() -> None:
    """Register every provider's readers, IMAP token sources and token revokers.

    Each process that syncs or purges accounts (the command line, the
    workers and the site) calls this once at start.  Registering twice
    replaces the entries with equal ones.
    """
    from warmline.providers import google, imap_oauth, microsoft

    google.register_readers()
    microsoft.register_readers()
    imap_oauth.register_token_sources()
