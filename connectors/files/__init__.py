"""Readers for exported files: mbox, folders of .eml files, and .ics calendars."""

from connectors.files.eml import EmlFolderReader
from connectors.files.ics import IcsReader
from connectors.files.mbox import MboxReader

__all__ = ["EmlFolderReader", "IcsReader", "MboxReader"]
