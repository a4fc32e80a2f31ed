"""Folder choice for an IMAP account, and provider keys inside folders."""

from __future__ import annotations

from collections.abc import Sequence

from connectors.errors import SourceUnavailable
from connectors.imap.client import FolderInfo

GMAIL_KEY_PREFIX = "gm:"
# Names tried for sent mail when no folder carries the \Sent attribute of
# RFC 6154.  NOTE: localized names ("Gesendete Objekte") are not tried, so
# such a server's sent folder needs to be configured by name.
COMMON_SENT_NAMES = ("Sent", "Sent Items", "Sent Messages", "INBOX.Sent", "INBOX/Sent")


def choose_folders(
    listing: Sequence[FolderInfo],
    gmail: bool,
    configured: Sequence[str] | None,
    account: str,
) -> list[FolderInfo]:
    """Pick the folders to sync from a LIST reply.

    Configured names must exist.  Otherwise Gmail's \\All folder is the
    whole mailbox, every label included, and is chosen alone (its name is
    localized, so it is found by attribute, never by name).  Elsewhere, or
    when the user hid All Mail from IMAP, INBOX and the \\Sent folders are
    chosen.
    """
    selectable = [folder for folder in listing if folder.selectable]
    by_name = {_folder_key(folder.name): folder for folder in selectable}
    if configured is not None:
        missing = [name for name in configured if _folder_key(name) not in by_name]
        if missing:
            shown = ", ".join(sorted(folder.name for folder in selectable)[:20])
            raise SourceUnavailable(
                f"folder(s) {', '.join(missing)} not found on {account}; "
                f"fix the account's folder list (the server lists: {shown})"
            )
        return [by_name[_folder_key(name)] for name in dict.fromkeys(configured)]
    if gmail:
        for folder in selectable:
            if "\\ALL" in folder.attributes:
                return [folder]
    chosen = [by_name["INBOX"]] if "INBOX" in by_name else []
    sent = [folder for folder in selectable if "\\SENT" in folder.attributes]
    if not sent:
        sent = [
            by_name[name]
            for name in map(_folder_key, COMMON_SENT_NAMES)
            if name in by_name
        ][:1]
    return chosen + [folder for folder in sent if folder not in chosen]


def is_gmail_all(folder: FolderInfo, gmail: bool) -> bool:
    return gmail and "\\ALL" in folder.attributes


def key_prefix(folder_name: str, gmail_all: bool) -> str:
    """Return the start shared by every provider key of a folder.

    "%" and ":" in the folder name are percent-encoded, so that the prefix
    of folder "A" ("A:") never matches keys of a folder "A:B".
    """
    if gmail_all:
        return GMAIL_KEY_PREFIX
    return folder_name.replace("%", "%25").replace(":", "%3A") + ":"


def provider_key(
    folder_name: str, uidvalidity: int, uid: int, gm_msgid: int | None
) -> str:
    """Return `folder:UIDVALIDITY:UID`, or `gm:X-GM-MSGID` on Gmail's \\All.

    NOTE: the keys of a folder named "gm" share the prefix "gm:" with the
    keys of Gmail's \\All folder.  Only a Gmail account that syncs a label
    named "gm" by name is affected.
    """
    if gm_msgid is not None:
        return f"{GMAIL_KEY_PREFIX}{gm_msgid}"
    return f"{key_prefix(folder_name, False)}{uidvalidity}:{uid}"


def _folder_key(name: str) -> str:
    # RFC 3501 section 5.1: INBOX is case-insensitive, other names are not.
    return "INBOX" if name.upper() == "INBOX" else name
