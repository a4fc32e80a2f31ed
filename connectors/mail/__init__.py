"""E-mail headers read into activity records, for every mail connector.

`parse_message` turns the header block of a raw RFC 5322 message into an
e-mail `Activity`.  File readers that split headers themselves use
`HeaderBlock` and `parse_headers`, plus the Google Takeout label helpers.
"""

from connectors.mail.addresses import Mailbox, looks_like_address, parse_address_list
from connectors.mail.dates import HeaderDate, parse_from_line_date, parse_header_date
from connectors.mail.headers import (
    HEADER_FIELDS,
    MAX_ADDRESS_HEADER_BYTES,
    MAX_HEADER_BLOCK_BYTES,
    HeaderBlock,
)
from connectors.mail.ids import SYNTHETIC_ID_DOMAIN, message_external_id
from connectors.mail.labels import is_sent_label, parse_gmail_labels, skipped_label
from connectors.mail.parse import parse_headers, parse_message

__all__ = [
    "HEADER_FIELDS",
    "MAX_ADDRESS_HEADER_BYTES",
    "MAX_HEADER_BLOCK_BYTES",
    "SYNTHETIC_ID_DOMAIN",
    "HeaderBlock",
    "HeaderDate",
    "Mailbox",
    "is_sent_label",
    "looks_like_address",
    "message_external_id",
    "parse_address_list",
    "parse_from_line_date",
    "parse_gmail_labels",
    "parse_header_date",
    "parse_headers",
    "parse_message",
    "skipped_label",
]
