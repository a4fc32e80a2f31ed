"""WebDAV hrefs in one canonical spelling, and the provider keys built on them.

Servers percent-encode the same path in different ways: one href names
"/cal/a@b.ics", another "/cal/a%40b.ics", and an absolute URL may stand in
for a path, which RFC 4918 allows.  Every href is therefore
reduced to its path, decoded to bytes and encoded again with one fixed set
of unreserved characters, so that a sync-collection report, a PROPFIND
listing and a calendar-multiget name each object the same way.  "|" is
always encoded, so it only ever separates the parts of a provider key.
"""

from __future__ import annotations

import urllib.parse

# RFC 3986 section 3.3 allows these in a path segment without encoding.
_PATH_SAFE = "/:@!$&'()*+,;=-._~"


def normalize_href(href: str) -> str:
    """Return the canonical percent-encoded path of an href or URL."""
    path = urllib.parse.urlsplit(href.strip()).path or "/"
    raw = urllib.parse.unquote_to_bytes(path)
    return urllib.parse.quote(raw, safe=_PATH_SAFE)


def same_collection(href: str, collection: str) -> bool:
    """Tell whether two canonical hrefs name the same collection."""
    return href.rstrip("/") == collection.rstrip("/")


def calendar_prefix(calendar: str) -> str:
    """Return the provider-key prefix of everything read from `calendar`."""
    return f"{calendar}|"


def object_prefix(calendar: str, href: str) -> str:
    """Return the provider-key prefix of every occurrence of one object.

    NOTE: the pipeline stores provider keys in 1000 characters, which a
    long calendar path, object href and UID together could exceed.
    """
    return f"{calendar}|{href}|"
