"""Request bodies and 207 Multi-Status responses of WebDAV, CalDAV and WebDAV Sync.

The parser keeps two things that python-caldav's response classes drop or
reject.  One is the status of each DAV:response: a 404 marks a removed
member, and a 507 on the collection marks a truncated sync report.  The
other is every href of a response that lists several with one status, as
RFC 4918 allows.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping

from lxml import etree

from connectors.caldav.hrefs import normalize_href

DAV = "DAV:"
CALDAV = "urn:ietf:params:xml:ns:caldav"
_NAMESPACES = {"d": DAV, "c": CALDAV}

RESOURCETYPE = f"{{{DAV}}}resourcetype"
GETETAG = f"{{{DAV}}}getetag"
SYNC_TOKEN = f"{{{DAV}}}sync-token"
CALENDAR_DATA = f"{{{CALDAV}}}calendar-data"
CALENDAR = f"{{{CALDAV}}}calendar"
COLLECTION = f"{{{DAV}}}collection"


class InvalidMultistatus(ValueError):
    """A response body is not the expected DAV:multistatus document."""


@dataclasses.dataclass(frozen=True)
class MultistatusResponse:
    """One DAV:response of a multistatus, for one href.

    `status` is the response's own DAV:status code, or None when the
    response carries properties instead.  `properties` maps the Clark name
    of each property returned with a 2xx status to its element.
    """

    href: str
    status: int | None
    properties: Mapping[str, etree._Element]

    def text(self, name: str) -> str | None:
        """Return the text of property `name`, or None if it is missing."""
        element = self.properties.get(name)
        if element is None:
            return None
        return element.text or ""

    def has_type(self, name: str) -> bool:
        """Tell whether DAV:resourcetype lists the element `name`."""
        resourcetype = self.properties.get(RESOURCETYPE)
        if resourcetype is None:
            return False
        return any(child.tag == name for child in resourcetype)


@dataclasses.dataclass(frozen=True)
class Multistatus:
    """The responses of a multistatus and its DAV:sync-token, if it has one."""

    responses: tuple[MultistatusResponse, ...]
    sync_token: str | None = None


def propfind_body(*names: str) -> bytes:
    """Build a PROPFIND body that requests the properties `names`."""
    root = etree.Element(f"{{{DAV}}}propfind", nsmap=_NAMESPACES)
    _add_prop(root, names)
    return _serialize(root)


def sync_collection_body(sync_token: str | None) -> bytes:
    """Build a sync-collection REPORT body for members' ETags (RFC 6578 3.2).

    An empty token requests the initial listing.  Sync level 1 reports the
    collection's own members only, as a calendar has no sub-collections.
    """
    root = etree.Element(f"{{{DAV}}}sync-collection", nsmap=_NAMESPACES)
    etree.SubElement(root, SYNC_TOKEN).text = sync_token or ""
    etree.SubElement(root, f"{{{DAV}}}sync-level").text = "1"
    _add_prop(root, [GETETAG])
    return _serialize(root)


def multiget_body(hrefs: Iterable[str]) -> bytes:
    """Build a calendar-multiget REPORT body (RFC 4791 section 7.9)."""
    root = etree.Element(f"{{{CALDAV}}}calendar-multiget", nsmap=_NAMESPACES)
    _add_prop(root, [GETETAG, CALENDAR_DATA])
    for href in hrefs:
        etree.SubElement(root, f"{{{DAV}}}href").text = href
    return _serialize(root)


def parse_multistatus(root: etree._Element | None) -> Multistatus:
    """Read a DAV:multistatus tree.

    Raises InvalidMultistatus when the tree is missing or is some other
    document, such as an HTML error page.
    """
    if root is None or root.tag != f"{{{DAV}}}multistatus":
        tag = "no body" if root is None else root.tag
        raise InvalidMultistatus(f"expected a DAV:multistatus body, got {tag}")
    responses: list[MultistatusResponse] = []
    for element in root.iterfind(f"{{{DAV}}}response"):
        responses.extend(_read_response(element))
    token_element = root.find(SYNC_TOKEN)
    token = None
    if token_element is not None and token_element.text:
        token = token_element.text.strip()
    return Multistatus(tuple(responses), token)


def _read_response(element: etree._Element) -> list[MultistatusResponse]:
    hrefs = [
        normalize_href(href.text)
        for href in element.iterfind(f"{{{DAV}}}href")
        if href.text and href.text.strip()
    ]
    status_element = element.find(f"{{{DAV}}}status")
    status = None
    if status_element is not None:
        status = status_code(status_element.text)
    properties: dict[str, etree._Element] = {}
    for propstat in element.iterfind(f"{{{DAV}}}propstat"):
        propstat_status = status_code(propstat.findtext(f"{{{DAV}}}status"))
        if propstat_status is None or not 200 <= propstat_status < 300:
            continue
        for prop in propstat.iterfind(f"{{{DAV}}}prop"):
            for child in prop:
                if isinstance(child.tag, str):
                    properties[child.tag] = child
    return [MultistatusResponse(href, status, properties) for href in hrefs]


def status_code(status_line: str | None) -> int | None:
    """Return the code of a status line such as "HTTP/1.1 404 Not Found"."""
    if not status_line:
        return None
    parts = status_line.split()
    if len(parts) < 2 or not parts[1].isdigit():
        return None
    return int(parts[1])


def _add_prop(parent: etree._Element, names: Iterable[str]) -> None:
    prop = etree.SubElement(parent, f"{{{DAV}}}prop")
    for name in names:
        etree.SubElement(prop, name)


def _serialize(root: etree._Element) -> bytes:
    return bytes(etree.tostring(root, xml_declaration=True, encoding="utf-8"))
